"""Wall time to autograde one perfect submission of each notebook, and of the whole series.

Builds a scratch copy of the course (release included), then grades with the same code and
limits as ``make grade``. Target: under 60 s per notebook on 2 cores.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from grade import Limits, grade_submission, load_releases, sandbox_prefix  # noqa: E402
from release import perfect_submission, scratch_course  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir(mode=0o755)
        course = scratch_course(ROOT, Path(tmp) / "course")
        releases = load_releases(course)
        sandbox = sandbox_prefix([course])
        print(f"sandbox {'on' if sandbox else 'off'}; one perfect submission per notebook")
        total = 0.0
        for index, release in enumerate(releases):
            solution = course / "solutions" / release.assignment / f"{release.name}.ipynb"
            path = Path(tmp) / f"{release.assignment}.ipynb"
            student = course / "notebooks" / release.assignment / f"{release.name}.ipynb"
            nbformat.write(perfect_submission(solution, student), path)
            started = time.perf_counter()
            row = grade_submission(path, index, course, releases, Limits(), work, sandbox)
            seconds = time.perf_counter() - started
            total += seconds
            print(f"  {release.assignment:<28} {seconds:6.1f} s  ({row['points']:g}/{row['max_points']:g} points"
                  f"{', ' + row['reason'] if row['reason'] else ''})  target < 60 s")
        print(f"  {'whole series':<28} {total:6.1f} s")


if __name__ == "__main__":
    main()
