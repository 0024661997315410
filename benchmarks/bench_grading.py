"""Wall time to autograde one perfect submission of each notebook, three ways, side by side.

* ``nbgrader``: ``nbgrader autograde`` in a scratch course (the grading path before the
  rnnlab_grader package: a Jupyter kernel, nbgrader's start-up and gradebook), no sandbox;
* ``runner``: the rnnlab_grader runner without a sandbox (``--unsafe-no-sandbox``);
* ``sandboxed``: the same runner under bubblewrap, as ``make grade`` runs it.

Where the sandboxed time goes: ``prepare`` (outside the sandbox: read, identify, repair, plan),
``start-up`` (a sandboxed runner with an empty plan: bubblewrap, Python, torch, rnnlab and IPython
imports) and the notebook's own cells (the rest). ``reference``: the solution's own sandboxed run
that every submission of the notebook is compared with, made once per grading run (not per file).

The three are interleaved per notebook and repeated, so machine noise hits them alike; the
ratios are medians. Targets: under 60 s per notebook, and the sandbox at most 10% slower than
the same run without it (sandboxed / runner <= 1.10).
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from rnnlab_grader import pipeline, repair, submissions
from rnnlab_grader.releases import Release, identify, load_releases
from rnnlab_grader.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from release import perfect_submission, scratch_course, tool_env  # noqa: E402

REPEATS = 3


def nbgrader_autograde(course: Path, release: Release, notebook, work: Path) -> float:
    """Seconds for ``nbgrader autograde`` of one submission in a copy of the scratch course."""
    scratch = work / f"nbgrader-{release.assignment}"
    shutil.rmtree(scratch, ignore_errors=True)
    target = scratch / "submitted" / "s0001" / release.assignment / f"{release.name}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(notebook, target)
    for name in ("nbgrader_config.py", "gradebook.db"):
        shutil.copy(course / name, scratch)
    started = time.perf_counter()
    subprocess.run(["nbgrader", "autograde", release.assignment, "--student", "s0001", "--force",
                    "--log-level=ERROR"], cwd=scratch, env={**tool_env(), "RNNLAB_ALLOW_NBGRADER_AUTOGRADE": "1"},
                   check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-") as tmp:
        work = Path(tmp)
        course = scratch_course(ROOT, work / "course")
        releases = load_releases(course)
        boxes = {"runner": pipeline.new_sandbox(Limits(), unsafe=True), "sandboxed": pipeline.new_sandbox(Limits())}
        boxes["sandboxed"].check()
        started = time.perf_counter()
        references = pipeline.reference_runs(releases, boxes["sandboxed"])
        reference_s = (time.perf_counter() - started) / len(releases)
        print(f"one perfect submission per notebook, {REPEATS} interleaved repeats, medians in seconds")
        print(f"  {'notebook':<26} {'nbgrader':>9} {'runner':>8} {'sandboxed':>10} {'sandbox/runner':>15} "
              f"{'sandboxed/nbgrader':>19}  points  {'prepare':>8} {'start-up':>9} {'cells':>6}")
        totals = {"nbgrader": 0.0, "runner": 0.0, "sandboxed": 0.0, "prepare": 0.0, "start-up": 0.0}
        for release in releases:
            solution = course / "solutions" / release.assignment / f"{release.name}.ipynb"
            student = course / "notebooks" / release.assignment / f"{release.name}.ipynb"
            notebook = perfect_submission(solution, student)
            path = work / f"{release.assignment}.ipynb"
            nbformat.write(notebook, path)
            times = {name: [] for name in totals}
            for _ in range(REPEATS):
                times["nbgrader"].append(nbgrader_autograde(course, release, notebook, work))
                for name, box in boxes.items():
                    started = time.perf_counter()
                    row = pipeline.grade_one(path, path.name, releases, references, box)
                    times[name].append(time.perf_counter() - started)
                    assert row["points"] == row["max_points"], row
                started = time.perf_counter()
                restored = repair.restore(submissions.read_submission(path), release.notebook).notebook
                submissions.plan(restored, identify(restored, releases))
                times["prepare"].append(time.perf_counter() - started)
                started = time.perf_counter()
                pipeline.run_with_restarts([], submissions.trusted_imports(release), boxes["sandboxed"])
                times["start-up"].append(time.perf_counter() - started)
            median = {name: statistics.median(values) for name, values in times.items()}
            for name in totals:
                totals[name] += median[name]
            print(f"  {release.assignment:<26} {median['nbgrader']:9.1f} {median['runner']:8.1f} "
                  f"{median['sandboxed']:10.1f} {median['sandboxed'] / median['runner']:15.2f} "
                  f"{median['sandboxed'] / median['nbgrader']:19.2f}  {row['points']:g}/{row['max_points']:g}  "
                  f"{median['prepare']:8.2f} {median['start-up']:9.1f} "
                  f"{median['sandboxed'] - median['prepare'] - median['start-up']:6.1f}")
        print(f"  {'whole series':<26} {totals['nbgrader']:9.1f} {totals['runner']:8.1f} {totals['sandboxed']:10.1f} "
              f"{totals['sandboxed'] / totals['runner']:15.2f} {totals['sandboxed'] / totals['nbgrader']:19.2f}  "
              f"{'':>{len('points')}}  {totals['prepare']:8.2f} {totals['start-up']:9.1f} "
              f"{totals['sandboxed'] - totals['prepare'] - totals['start-up']:6.1f}")
        print(f"  the solutions' reference runs, once per grading run: {reference_s:.1f} s per notebook on average")
        print("  targets: < 60 s per notebook; sandbox/runner <= 1.10")


if __name__ == "__main__":
    main()
