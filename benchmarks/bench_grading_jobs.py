"""Throughput of ``rnnlab-grade --jobs N`` against one job at a time, side by side.

A generated class: for each notebook, a perfect, a blank (the untouched release) and a partial
submission (every other answer left as the stub), COPIES times over. The same folder is graded
with ``--jobs 1``, ``--jobs <cores>`` and on a Dask LocalCluster of <cores> single-threaded workers
(``--scheduler``, the cluster path), alternating, REPEATS times; the ratios are of medians.
Prints files per minute, the ratio, and the time 200 pairs x 4 notebooks would take at that rate
(one submission per pair and notebook, graded on this machine). Every run starts with the four
solutions' reference runs (a fixed cost per grading run, measured here on its own with
``pipeline.reference_runs``): the per-file rate leaves it out and the extrapolation adds it once.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from release import perfect_submission  # noqa: E402

COPIES, REPEATS = 2, 2


def generated_class(folder: Path) -> int:
    count = 0
    for solution in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        release = ROOT / "notebooks" / solution.parent.name / solution.name
        perfect = perfect_submission(solution, release)
        stubs = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nbformat.read(release, 4).cells
                 if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
        partial = perfect_submission(solution, release)
        answers = (c for c in partial.cells if c.metadata.get("nbgrader", {}).get("grade_id") in stubs)
        for index, cell in enumerate(answers):
            if index % 2:
                cell.source = stubs[cell.metadata["nbgrader"]["grade_id"]]
        for copy in range(COPIES):
            for kind, notebook in (("perfect", perfect), ("blank", nbformat.read(release, 4)), ("partial", partial)):
                nbformat.write(notebook, folder / f"{solution.parent.name}-{kind}-{copy}.ipynb")
                count += 1
    return count


def grade(folder: Path, how: list[str], out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rnnlab_grader.cli", str(folder), "--root", str(ROOT), "--out", str(out),
                    "--slot", "700", *how], check=True, capture_output=True, timeout=7200)
    return time.perf_counter() - started


def main() -> None:
    import dask
    from distributed import LocalCluster

    from rnnlab_grader import pipeline
    from rnnlab_grader.releases import load_releases
    from rnnlab_grader.sandbox import Limits

    cores = os.cpu_count() or 1
    releases = load_releases(ROOT)
    started = time.perf_counter()
    pipeline.reference_runs(releases, pipeline.new_sandbox(Limits(), slot=700), cores, 1)
    reference_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp, \
            dask.config.set({"distributed.scheduler.worker-saturation": 1.0}), \
            LocalCluster(n_workers=cores, threads_per_worker=1, dashboard_address=None, host="127.0.0.1") as cluster:
        folder = Path(tmp) / "class"
        folder.mkdir()
        files = generated_class(folder)
        ways = {"--jobs 1": ["--jobs", "1"], f"--jobs {cores}": ["--jobs", str(cores)],
                f"Dask LocalCluster, {cores} workers": ["--scheduler", cluster.scheduler_address]}
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(REPEATS):
            for index, (name, how) in enumerate(ways.items()):
                times[name].append(grade(folder, how, Path(tmp) / f"grades-{index}.csv"))
        tables = [(Path(tmp) / f"grades-{index}.csv").read_bytes() for index in range(len(ways))]
    print(f"grading throughput, {files} generated submissions (perfect, blank, partial of each notebook), "
          f"{REPEATS} alternating runs each:")
    print(f"  the four solutions' reference runs ({cores} at once), once per grading run: {reference_s:.1f} s")
    sequential = statistics.median(times["--jobs 1"])
    for name, seconds in times.items():
        median = statistics.median(seconds)
        per_file = (median - reference_s) / files
        print(f"  {name:<30} {median:6.1f} s ({60 * files / median:5.1f} files/min, {per_file:4.1f} s/file, "
              f"x{sequential / median:4.2f} of --jobs 1); 200 pairs x 4 notebooks: "
              f"{(reference_s + 800 * per_file) / 60:5.1f} min")
    print(f"  same CSV every way: {all(table == tables[0] for table in tables)}")


if __name__ == "__main__":
    main()
