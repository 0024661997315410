"""Regenerate the student versions in notebooks/ from solutions/ with nbgrader.

Run from the repository root (``make release``); nbgrader must be on PATH (the Makefile
puts ``.venv/bin`` there, which nbgrader also needs for ``alembic``).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def assignments(root: Path) -> list[str]:
    """Names of the folders in solutions/ that hold at least one notebook, in course order."""
    source = root / "solutions"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if source.is_dir() else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root (holds nbgrader_config.py)")
    root = parser.parse_args().root.resolve()
    names = assignments(root)
    if not names:
        print("No notebooks in solutions/ yet: nothing to release.")
        return 0
    for name in names:
        print(f"releasing {name} ...", flush=True)
        done = subprocess.run(["nbgrader", "generate_assignment", name, "--force", "--log-level=WARN"], cwd=root)
        if done.returncode != 0:
            print(f"nbgrader generate_assignment {name} failed (exit {done.returncode})", file=sys.stderr)
            return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
