"""Regenerate the student versions in notebooks/ from solutions/ with nbgrader.

Then write the Colab badge and the setup cell (course.toml says where students install
from) into every student version, and print each notebook's points.

Run from the repository root (``make release``) with the course environment's Python; its
``bin/`` is put on PATH for nbgrader (see ``tool_env``).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from colab import BADGE_TAG, SETUP_TAG, load_repository, render

from rnnlab_grader.releases import points


def assignments(root: Path) -> list[str]:
    """Names of the folders in solutions/ that hold at least one notebook, in course order."""
    source = root / "solutions"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if source.is_dir() else []


COURSE_FILES = ("nbgrader_config.py", "course.toml")


def tool_env(**overrides: str) -> dict[str, str]:
    """This environment with the interpreter's bin/ first on PATH: nbgrader, and the alembic it
    calls by name, live in the same virtual environment as the Python running this script."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, **overrides}


def scratch_course(root: Path, destination: Path) -> Path:
    """Copy the course sources (config files and solutions/) to ``destination`` and release
    them there: a throw-away course with its own notebooks/ and gradebook.db."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        shutil.copy(root / name, destination)
    shutil.copytree(root / "solutions", destination / "solutions")
    if main(["--root", str(destination)]) != 0:
        raise RuntimeError(f"releasing the scratch course in {destination} failed")
    return destination


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root (holds nbgrader_config.py)")
    root = parser.parse_args(argv).root.resolve()
    names = assignments(root)
    if not names:
        print("No notebooks in solutions/ yet: nothing to release.")
        return 0
    for name in names:
        print(f"releasing {name} ...", flush=True)
        done = subprocess.run(["nbgrader", "generate_assignment", name, "--force", "--log-level=WARN"], cwd=root,
                              env=tool_env(), stdout=sys.stdout, stderr=sys.stderr)
        if done.returncode != 0:
            print(f"nbgrader generate_assignment {name} failed (exit {done.returncode})", file=sys.stderr)
            return done.returncode
    repo = load_repository(root)
    for path in sorted((root / "notebooks").glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        if render(notebook, repo, path.parent.name, path.name) != 2:
            print(f"{path}: needs one cell tagged '{BADGE_TAG}' and one tagged '{SETUP_TAG}'", file=sys.stderr)
            return 1
        nbformat.write(notebook, path)
    print(f"\n{'notebook':<52} {'autograded':>10} {'by hand':>8}")
    for path in sorted((root / "notebooks").glob("*/*.ipynb")):
        auto, manual = points(nbformat.read(path, as_version=4))
        print(f"{path.parent.name + '/' + path.name:<52} {auto:>10g} {manual:>8g}")
    return 0


def perfect_submission(solution: Path, release: Path):
    """What a perfect student submits: the release version with every answer cell replaced by
    the solution's (used by the round-trip tests and the grading benchmark)."""
    from rnnlab_grader.pipeline import solution_submission
    from rnnlab_grader.releases import Release

    student = nbformat.read(release, as_version=4)
    return solution_submission(Release(release.parent.name, release.stem, student,
                                       nbformat.read(solution, as_version=4), points(student)[0]))


if __name__ == "__main__":
    sys.exit(main())
