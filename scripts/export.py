"""Write the student-facing repository into a folder (``make export``).

The student repository is what the Colab badges and the setup cell's install URL point at
(course.toml). It holds only what students need and nothing they must not see:
``notebooks/`` (the nbgrader student versions), ``utils/`` and ``pyproject.toml`` (so that
``pip install git+<url>`` installs rnnlab), ``data/README.md``, ``environment.yml``, a README
written for students (``student/README.md``), and a licence file if this repository has one.

The folder may be a clone of the student repository: its ``.git`` is kept and everything
else is replaced. A folder holding anything else is refused.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from colab import badge_source, load_repository

LICENCES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "COPYING")
EXPORTED = {"README.md", "notebooks", "utils", "pyproject.toml", "data", "environment.yml", *LICENCES}
KEPT = {".git"}
IGNORED_NAMES = ("__pycache__", "*.egg-info", "*.pyc", ".ipynb_checkpoints")


def notebook_table(root: Path) -> str:
    repo = load_repository(root)
    rows = ["| notebook | open |", "| --- | --- |"]
    for path in sorted((root / "notebooks").glob("*/*.ipynb")):
        rows.append(f"| `{path.parent.name}/{path.name}` | {badge_source(repo, path.parent.name, path.name)} |")
    return "\n".join(rows)


def student_pyproject(text: str) -> str:
    """The package's pyproject.toml without what only this repository has: the development and
    grading extras, the pytest settings (they name tests/) and comments about constraints.txt."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            skipping = line.strip() == "[tool.pytest.ini_options]"
        if skipping or re.match(r"(dev|grade) = \[", line) or "constraints.txt" in line:
            continue
        out.append(line)
    return "".join(out).rstrip() + "\n"


def export(root: Path, destination: Path) -> list[str]:
    """Write the student repository into ``destination``; returns its top-level entries."""
    destination.mkdir(parents=True, exist_ok=True)
    unexpected = sorted(p.name for p in destination.iterdir() if p.name not in EXPORTED | KEPT)
    if unexpected:
        raise SystemExit(f"{destination} holds {unexpected}, which an export would not write: "
                         "export into an empty folder or a clone of the student repository")
    for entry in destination.iterdir():
        if entry.name not in KEPT:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    ignore = shutil.ignore_patterns(*IGNORED_NAMES)
    shutil.copytree(root / "notebooks", destination / "notebooks", ignore=ignore)
    shutil.copytree(root / "utils", destination / "utils", ignore=ignore)
    (destination / "data").mkdir()
    shutil.copy(root / "data" / "README.md", destination / "data" / "README.md")
    for name in LICENCES:
        if (root / name).exists():
            shutil.copy(root / name, destination / name)
    (destination / "pyproject.toml").write_text(student_pyproject((root / "pyproject.toml").read_text()))
    environment = (root / "environment.yml").read_text()  # students need rnnlab, not the grading tools
    environment = "".join(line for line in environment.splitlines(keepends=True) if "./grader" not in line)
    (destination / "environment.yml").write_text(environment.replace("-e .[dev,grade]", "-e .[notebook]")
                                                 .replace("for instructors", "for working on the notebooks locally"))
    repo = load_repository(root)
    readme = (root / "student" / "README.md").read_text()
    (destination / "README.md").write_text(readme.replace("{notebook_table}", notebook_table(root))
                                           .replace("{repository_url}", repo.url)
                                           .replace("{repository_name}", repo.github_path.split("/")[-1]))
    return sorted(p.name for p in destination.iterdir())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("destination", type=Path, help="folder to write (empty, or a clone of the student repo)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root")
    args = parser.parse_args(argv)
    entries = export(args.root.resolve(), args.destination)
    size = sum(p.stat().st_size for p in args.destination.rglob("*") if p.is_file() and ".git" not in p.parts)
    print(f"exported {', '.join(entries)} to {args.destination} ({size / 1024:.0f} KiB)")
    print(f"next: commit and push it to {load_repository(args.root.resolve()).url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
