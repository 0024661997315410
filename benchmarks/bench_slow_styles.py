"""Slow correct styles stay inside the grader's limits: packing, cell loops, index loops.

For every notebook, one submission per style of ``tests/fair_variants.py`` (every graded TODO
answered in that style: ``nn.RNNCell``/``nn.LSTMCell`` loops, packing, explicit loops) plus the
solution's own answers. Two measurements, each with ``JOBS`` = cores submissions at once, as
``make grade`` runs them:

* **per notebook**: the real grader (``rnnlab-grade``, sandboxed, ``--jobs`` cores) on all of
  them; the seconds it prints per file, against ``Limits.wall_s``;
* **per cell**: the same notebooks executed by nbclient in the ``grade`` profile, cores at a time,
  each kernel with cores / jobs threads as the grader gives a sandbox; the slowest cell of each
  submission (with its grade_id or first line), against ``Limits.cell_s``.

Target: every submission within a quarter of both limits (``FRACTION``). Prints one row per
submission and exits non-zero when a row is over the target.
"""
from __future__ import annotations

import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "scripts")]
from fair_variants import VARIANTS  # noqa: E402
from notebook_tools import nbgrader_meta, solution_notebooks  # noqa: E402
from rnnlab_grader.sandbox import Limits  # noqa: E402
from test_fair_scores import submission  # noqa: E402  (the perfect submission with answers swapped)

FRACTION = 0.25
JOBS = os.cpu_count() or 1


def submissions() -> dict[str, nbformat.NotebookNode]:
    """name -> notebook: the solution's answers, and one notebook per variant style."""
    out = {}
    for solution in solution_notebooks():
        assignment = solution.parent.name
        out[f"{assignment}-solution"] = submission(assignment, {})
        todos = VARIANTS[assignment]
        for style in range(min(len(v) for v in todos.values())):
            out[f"{assignment}-style{style}"] = submission(
                assignment, {grade_id: sources[style] for grade_id, sources in todos.items()})
    return out


def _seconds(stamp_from: str, stamp_to: str) -> float:
    return (datetime.fromisoformat(stamp_to.replace("Z", "+00:00"))
            - datetime.fromisoformat(stamp_from.replace("Z", "+00:00"))).total_seconds()


def slowest_cell(path: Path, threads: int) -> tuple[float, str]:
    """Execute one notebook as the grader's profile does; (seconds, label) of its slowest cell."""
    notebook = nbformat.read(path, as_version=4)
    env_keys = {"RNNLAB_PROFILE": "grade", "RNNLAB_DATA": "synthetic", "NBGRADER_EXECUTION": "autograde",
                "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "MPLBACKEND": "Agg",
                "RNNLAB_OUTPUT": str(path.parent / f"{path.stem}-outputs")}
    os.environ.update(env_keys)
    NotebookClient(notebook, timeout=Limits.cell_s, kernel_name="python3", allow_errors=True, record_timing=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    worst = (0.0, "")
    for cell in notebook.cells:
        timing = cell.metadata.get("execution", {})
        if cell.cell_type != "code" or "shell.execute_reply" not in timing:
            continue
        seconds = _seconds(timing["iopub.execute_input"], timing["shell.execute_reply"])
        label = nbgrader_meta(cell).get("grade_id") or cell.source.strip().splitlines()[0][:40]
        worst = max(worst, (seconds, label))
    return worst


def graded_seconds(folder: Path) -> dict[str, float]:
    """The real grader on every file of folder at --jobs cores: file stem -> seconds it printed."""
    done = subprocess.run([sys.executable, "-m", "rnnlab_grader.cli", str(folder), "--root", str(ROOT),
                           "--out", str(folder.parent / "grades.csv"), "--jobs", str(JOBS), "--slot", "700"],
                          capture_output=True, text=True, timeout=7200)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    seconds = {}
    for line in done.stdout.splitlines():
        match = re.search(r"(\S+)\.ipynb: (\S+)/(\S+) in (\d+) s", line)
        if match:
            if match.group(2) != match.group(3):
                print(f"note: {match.group(1)} scored {match.group(2)}/{match.group(3)} "
                      "(tests/test_fair_scores.py says why)")
            seconds[Path(match.group(1)).name] = float(match.group(4))
    return seconds


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="rnnlab-slow-styles-") as tmp:
        folder = Path(tmp) / "submitted"
        folder.mkdir()
        notebooks = submissions()
        for name, notebook in notebooks.items():
            nbformat.write(notebook, folder / f"{name}.ipynb")
        started = time.perf_counter()
        wall = graded_seconds(folder)
        print(f"graded {len(notebooks)} submissions at --jobs {JOBS} in {time.perf_counter() - started:.0f} s")
        runs = Path(tmp) / "cells"
        runs.mkdir()
        paths = []
        for name, notebook in notebooks.items():
            nbformat.write(notebook, runs / f"{name}.ipynb")
            paths.append(runs / f"{name}.ipynb")
        with concurrent.futures.ProcessPoolExecutor(JOBS) as pool:
            threads = [max(1, (os.cpu_count() or 1) // JOBS)] * len(paths)
            cells = dict(zip((p.stem for p in paths), pool.map(slowest_cell, paths, threads)))
    limits = Limits()
    print(f"\n{'submission':<36} {'notebook s':>10} {'of limit':>8} {'slowest cell':>12} {'of limit':>8}  cell")
    over = False
    for name in notebooks:
        seconds_cell, label = cells[name]
        notebook_share, cell_share = wall.get(name, float("nan")) / limits.wall_s, seconds_cell / limits.cell_s
        flag = "" if notebook_share <= FRACTION and cell_share <= FRACTION else "  OVER"
        over |= bool(flag) or name not in wall
        print(f"{name:<36} {wall.get(name, float('nan')):>10.0f} {notebook_share:>8.1%} {seconds_cell:>12.1f} "
              f"{cell_share:>8.1%}  {label}{flag}")
    print(f"\ntarget: every submission within {FRACTION:.0%} of the limits ({limits.wall_s:.0f} s a notebook, "
          f"{limits.cell_s:.0f} s a cell) at {JOBS} jobs")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
