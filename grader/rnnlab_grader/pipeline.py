"""The grading pipeline, one submitted file at a time (``cli`` is a thin layer over it).

1. **Prepare** (``prepare``: outside any sandbox, in a child process under CPU-time and memory
   limits): read the file, find its release, give back lost nbgrader metadata (``repair``), read
   the pair names and the code the student's cells define (``source_checks``), scan them for
   reaches into the interpreter (``tampering``: a hint), and plan the run (``submissions``).
2. **Run** (``sandbox`` + ``runner``): the plan in a fresh bubblewrap sandbox; its report is the
   submission's *claim* of what each cell did and what each test recorded.
3. **Judge** (``verdicts``, in this process, where no submission code ever ran): each test's claim
   against the solution's run of the same test cell (``Reference``: the release's solution run once
   per grading run in a sandbox of its own, with a fresh seed), points from the release.
4. **Row**: a ``dict`` per file, written by ``reports`` as files finish.
"""
from __future__ import annotations

import copy
import dataclasses
import importlib.util
import json
import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import cells, prepare, repair, reports, runner, slots, submissions, verdicts
from .sandbox import REFERENCE_UID_BASE, Limits, Sandbox

RUNNER = Path(runner.__file__).resolve()
REFERENCE = Path(importlib.util.find_spec(runner.REFERENCE_PACKAGE).origin).resolve().parent
MAX_RUNS = 3  # a run that dies in a cell is repeated without it, at most this many runs in all
DEBUG = "RNNLAB_GRADE_DEBUG"  # set: the runner's stderr (tracebacks of course cells) is printed here


class ReferenceFailed(RuntimeError):
    """The solution's own run of a release does not pass every test: nothing can be graded against it."""


@dataclass(frozen=True)
class Reference:
    """The solution's run of one release's test cells: what every submission is compared with.
    ``cells``: test grade_id -> its record; ``seed``: the offset hidden tests drew their inputs
    with (``rnnlab.checks.grading_seed``), the same for every submission of this grading run."""

    assignment: str
    seed: int
    cells: dict[str, verdicts.CellRecord]


def readable_paths() -> list[Path]:
    """What the runner needs to see: this Python and its environment, the rnnlab sources, the runner."""
    spec = importlib.util.find_spec("rnnlab")
    paths = [Path(sys.prefix), Path(sys.base_prefix), RUNNER]
    if spec and spec.origin:
        paths.append(Path(spec.origin).resolve().parent.parent)  # the folder that holds rnnlab/
    return paths


def new_sandbox(limits: Limits, slot: int = 0, unsafe: bool = False) -> Sandbox:
    """The sandbox every run (students' and solutions') gets; the references are mounted empty."""
    return Sandbox(readable_paths(), limits, slot=slot, unsafe=unsafe, hidden=[REFERENCE])


def runner_env(threads: int | None = None) -> dict[str, str]:
    """The runner's whole environment. ``threads`` caps torch's and BLAS's thread pools: graders
    running at once must share the cores, or their threads oversubscribe them (measured: two
    graders with 2 threads each on 2 cores ran a notebook 15-20x slower than one grader)."""
    home = "/grading"
    pools = {} if threads is None else {name: str(threads) for name in
                                        ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    return {**pools, "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "MPLCONFIGDIR": f"{home}/.mpl", "IPYTHONDIR": f"{home}/.ipython", "XDG_CACHE_HOME": f"{home}/.cache",
            "RNNLAB_OUTPUT": f"{home}/outputs", "NBGRADER_EXECUTION": "autograde", "MPLBACKEND": "Agg",
            "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TMPDIR": "/tmp"}


def run_with_restarts(cells: list[submissions.PlannedCell], imports, sandbox: Sandbox, threads: int | None = None,
                      seed: int = 0, outputs: bool = False):
    """Run the plan in a fresh sandbox; when the process dies in a cell (an exit call, a crash, a
    kill by a limit), run it again from the start without that cell, at most ``MAX_RUNS`` times
    within the one wall limit, so a crash costs that cell and not the tests after it.
    Returns the last run's report (flags of every run), its outcome and the cells skipped."""
    crashed: list[submissions.PlannedCell] = []
    flags, malformed, started = set(), 0, time.monotonic()
    for attempt in range(MAX_RUNS):
        todo = [c for c in cells if c not in crashed]
        left = sandbox.limits.wall_s - (time.monotonic() - started)
        box = dataclasses.replace(sandbox, limits=dataclasses.replace(sandbox.limits, wall_s=max(left, 1.0)))
        payload = {"cells": [{"index": c.index, "kind": c.kind, "source": c.source, "defines": c.defines}
                             for c in todo],
                   "cell_timeout": sandbox.limits.cell_s, "trusted_imports": imports, "seed": seed,
                   "preimport": sorted({module for _, module, _ in imports}), "debug": bool(os.environ.get(DEBUG)),
                   "outputs": outputs}
        outcome = box.run([sys.executable, "-I", str(RUNNER)], runner_env(threads), stdin=json.dumps(payload).encode())
        report = verdicts.parse(outcome.report)
        flags |= report.flags
        malformed += report.malformed_lines
        if outcome.stderr_head and os.environ.get(DEBUG):
            print(reports.safe_text(outcome.stderr_head.decode(errors="replace"), 2000), file=sys.stderr)
        dead = next((c for c in todo if report.outcome(c.index) is None), None)
        if report.finished or outcome.timed_out or dead is None or attempt == MAX_RUNS - 1 or left <= 1.0:
            break
        crashed.append(dead)
    report.flags, report.malformed_lines = flags, malformed
    return report, outcome, crashed


def solution_submission(release: submissions.Release):
    """What the solution hands in: the release with every answer cell replaced by the solution's."""
    answers = {cells.grade_id(c): c.source for c in release.solution.cells if cells.is_answer(c)}
    notebook = copy.deepcopy(release.notebook)
    for cell in notebook.cells:
        if cells.grade_id(cell) in answers:
            cell.source = answers[cells.grade_id(cell)]
    return notebook


def reference_run(release: submissions.Release, sandbox: Sandbox, seed: int, threads: int | None = None) -> Reference:
    """Run the solution's answers and the release's tests in a sandbox of their own (no submission
    code) and keep each test's record; raises ``ReferenceFailed`` unless every test passes and
    records something the grader can compare (the course would otherwise be graded blind)."""
    cells = submissions.plan(solution_submission(release), release)
    report, outcome, crashed = run_with_restarts(cells, submissions.trusted_imports(release), sandbox, threads, seed)
    records = {c.label: report.outcome(c.index) for c in cells if c.kind == "test"}
    failed = [label for label, record in records.items() if record is None or record.status != "pass"]
    if failed or crashed or not report.finished:
        raise ReferenceFailed(f"{release.assignment}: the solution's own run fails {', '.join(failed) or 'to finish'} "
                              "(run `make course` and fix the solution or its tests); set RNNLAB_GRADE_DEBUG=1 "
                              "to see its tracebacks")
    blind = [label for label, record in records.items() if not record.entries]
    if blind:
        raise ReferenceFailed(f"{release.assignment}: {', '.join(blind)} record nothing the grader can compare: "
                              "give each test a rnnlab.checks.record(...) of the values it checks")
    return Reference(release.assignment, seed, records)


def reference_runs(releases, sandbox: Sandbox, jobs: int = 1, threads: int | None = None,
                   seed: int | None = None) -> dict[str, Reference]:
    """``reference_run`` of every release, ``jobs`` at once, with one fresh seed for this grading run."""
    seed = secrets.randbelow(10**6) + 1 if seed is None else seed
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        def run(release):
            with slots.machine_slot(sandbox.slot) as slot:  # a uid no submission ever runs as
                box = dataclasses.replace(sandbox, slot=slot, uid_base=REFERENCE_UID_BASE)
                return reference_run(release, box, seed, threads)
        return {r.assignment: r for r in pool.map(run, releases)}


def _reasons_for(cells, verdict: dict, report: verdicts.Report, outcome, crashed, limits: Limits) -> list[str]:
    reasons, last_run = [], None
    for cell in cells:
        record = verdict[cell.index]
        if report.outcome(cell.index) is not None:
            last_run = cell
        if cell in crashed:
            reasons.append(f"{cell.label}{' failed' if cell.kind == 'test' else ''}: the process ended in it "
                           "(an exit call, a crash or a limit); the notebook ran again without it")
            continue
        if cell.kind == "test":
            if record is None:
                reasons.append(f"{cell.label} failed (did not run)")
            elif record.status == "timeout":
                reasons.append(f"{cell.label} failed (ran longer than {limits.cell_s:g} s)")
            elif record.status != "pass":
                reasons.append(f"{cell.label} failed")
        elif record is not None and record.status == "timeout":
            reasons.append(f"{cell.label}: ran longer than {limits.cell_s:g} s")
        elif record is not None and record.error == "MemoryError":
            reasons.append(f"{cell.label}: MemoryError (over the {limits.memory_gib:g} GiB memory limit)")
        elif record is not None and record.status == "fail" and record.error not in verdicts.CONSEQUENTIAL_ERRORS:
            reasons.append(f"{cell.label}: {record.error}")
    if outcome.timed_out:
        reasons.append(f"stopped at the {limits.wall_s:g} s limit for a whole notebook")
    elif not report.finished:
        where = f" after {last_run.label}" if last_run else " before its first cell"
        reasons.append(f"the notebook's process ended early{where} (an exit call, a crash or a limit); "
                       "later cells did not run")
    return reasons


def unwritten_answers(planned: list[submissions.PlannedCell], release: submissions.Release) -> list[str]:
    """The names the release's TODO cells ask for whose cell the submission left as released
    (the stub that raises ``NotImplementedError``), for feedback such as "failed because
    ``gru_backward`` is not written"."""
    stubs = {cells.grade_id(c): c.source.strip() for c in release.notebook.cells if cells.is_answer(c)}
    names = set()
    for cell in planned:
        stub = stubs.get(cell.label)
        if cell.kind == "student" and stub is not None and cell.source.strip() == stub and "NotImplementedError" in stub:
            names |= repair.requested_names(stub)
    return sorted(names)


def empty_row(name: str, reason: str = "") -> dict:
    """A row with no points, for a file that could not be graded (yet)."""
    return {"submission": name, "sha256": "", "your_name": "", "your_partner_name": "", "assignment": "",
            "points": 0.0, "max_points": 0.0, "flags": [], "reason": reason, "failed": True, "tests": []}


def grade_one(path: Path, name: str, releases: list[submissions.Release], references: dict[str, Reference],
              sandbox: Sandbox, threads: int | None = None) -> dict:
    """Grade one file; always returns a row (0 points and a reason when it cannot be graded).
    ``row["failed"]`` is true when the file could not be graded or its run did not finish."""
    row = empty_row(name)
    try:  # a link, FIFO, device, empty or huge file is refused before anything reads it
        submissions.check_file(path)
    except submissions.Unreadable as error:
        row["reason"] = str(error)
        return row
    except OSError as error:
        row["reason"] = f"could not read the file ({type(error).__name__})"
        return row
    prepared = prepare.prepare_bounded(path, releases)
    row["sha256"], row["flags"] = prepared.sha256, prepared.flags
    if prepared.reason:
        row["reason"] = (f"FLAGGED for review: {', '.join(prepared.flags)}; " if prepared.flags else "") + prepared.reason
        return row
    release = next(r for r in releases if r.assignment == prepared.assignment)
    row.update(assignment=release.assignment, max_points=release.max_points,
               your_name=prepared.your_name, your_partner_name=prepared.your_partner_name)
    cells = prepared.cells
    context = verdicts.Context(prepared.definitions, (prepared.your_name, prepared.your_partner_name))
    reference = references[release.assignment]
    report, outcome, crashed = run_with_restarts(cells, prepared.imports, sandbox, threads, reference.seed, outputs=True)
    shown = {c.index for c in cells if c.kind != "test"}  # never output under an instructor's test cell
    row["outputs"] = verdicts.parse_display(outcome.display, shown)  # for the instructor's graded copy only

    def verdict_of(cell):
        claimed = report.outcome(cell.index)
        if cell.kind != "test" or claimed is None:
            return claimed
        expected = reference.cells.get(cell.label)
        if expected is None:
            return verdicts.CellRecord("fail", "NoReference")
        return verdicts.judge(claimed, expected, context)

    verdict = {c.index: verdict_of(c) for c in cells}
    row["unwritten"] = unwritten_answers(cells, release)
    row["failed"] = not report.finished
    row["points"] = float(sum(c.points for c in cells if c.kind == "test"
                              and (r := verdict[c.index]) is not None and r.status == "pass"))
    flags = sorted(set(prepared.flags) | report.flags)
    row["flags"] = flags
    row["tests"] = [reports.test_token(c.label, verdict[c.index], c in crashed) for c in cells if c.kind == "test"]
    reasons = [f"FLAGGED for review: {', '.join(flags)}"] if flags else []
    if prepared.repaired:
        reasons.append(prepared.repaired)
    if prepared.edited:
        reasons.append(f"edited course cells run as released: {', '.join(prepared.edited)}")
    row["reason"] = "; ".join(reasons + _reasons_for(cells, verdict, report, outcome, crashed, sandbox.limits))
    return row


def submitted_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (links included, to be refused with a reason), never following
    links into other folders; Jupyter's checkpoints are skipped."""
    found = []
    for directory, subdirs, files in os.walk(folder, followlinks=False):
        subdirs[:] = sorted(d for d in subdirs if d != ".ipynb_checkpoints")
        found += [Path(directory) / f for f in sorted(files)]
    return found


def grade_timed(path: Path, name: str, releases, references, sandbox: Sandbox,
                threads: int | None) -> tuple[dict, float]:
    """``grade_one`` in the lowest free sandbox slot of this machine from ``sandbox.slot`` on, with
    its time in seconds. An error of the grader itself costs this file's row only."""
    started = time.perf_counter()
    try:
        with slots.machine_slot(sandbox.slot) as slot:
            row = grade_one(path, name, releases, references, dataclasses.replace(sandbox, slot=slot), threads)
    except Exception as error:  # noqa: BLE001 - a row with a reason, never a lost class
        row = empty_row(name, f"the grader failed on this file ({type(error).__name__}); grade it again")
    return row, time.perf_counter() - started
