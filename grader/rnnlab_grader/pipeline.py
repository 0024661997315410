"""The grading pipeline, one submitted file at a time (``cli`` is a thin layer over it).

1. **Prepare** (``prepare``: outside any sandbox, in a child process under CPU-time and memory
   limits): read the file, find its release, give back lost nbgrader metadata (``repair``), read
   the pair names and the code the student's cells define (``source_checks``), scan them for
   reaches into the interpreter (``tampering``: a hint), and plan the run (``submissions``).
2. **Run** (``sandbox`` + the ``rnnlab_runner`` package): the plan in a fresh bubblewrap sandbox; its report is the
   submission's *claim* of what each cell did and what each test recorded.
3. **Judge** (``verdicts``, in this process, where no submission code ever ran): each test's claim
   against the solution's run of the same test cell (``Reference``: the release's solution run once
   per grading run in a sandbox of its own, with a fresh seed), points from the release.
4. **Result**: a frozen ``results.FileResult`` per file, kept by ``store`` as files finish.
"""
from __future__ import annotations

import copy
import dataclasses
import importlib.util
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import rnnlab_runner
from rnnlab_runner import protocol

from . import cells, prepare, repair, slots, submissions, verdicts
from .releases import Release
from .results import FileResult, GradedCopy, Reason, ReasonKind, TestResult, TestStatus, ungradable
from .sandbox import REFERENCE_UID_BASE, Cancelled, Limits, Sandbox

RUNNER = Path(rnnlab_runner.__file__).resolve().parent  # the runner's package: the sandbox binds it
REFERENCE = Path(importlib.util.find_spec(protocol.REFERENCE_PACKAGE).origin).resolve().parent
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
        outcome = box.run([sys.executable, "-I", str(RUNNER / "__main__.py")], runner_env(threads),
                          stdin=json.dumps(payload).encode())
        report = verdicts.parse(outcome.report)
        flags |= report.flags
        malformed += report.malformed_lines
        if outcome.stderr_head and os.environ.get(DEBUG):
            print(outcome.stderr_head.decode(errors="replace")[:2000], file=sys.stderr)
        dead = next((c for c in todo if report.outcome(c.index) is None), None)
        if report.finished or outcome.timed_out or dead is None or attempt == MAX_RUNS - 1 or left <= 1.0:
            break
        crashed.append(dead)
    report.flags, report.malformed_lines = flags, malformed
    return report, outcome, crashed


def solution_submission(release: Release):
    """What the solution hands in: the release with every answer cell replaced by the solution's."""
    answers = {cells.grade_id(c): c.source for c in release.solution.cells if cells.is_answer(c)}
    notebook = copy.deepcopy(release.notebook)
    for cell in notebook.cells:
        if cells.grade_id(cell) in answers:
            cell.source = answers[cells.grade_id(cell)]
    return notebook


def reference_run(release: Release, sandbox: Sandbox, seed: int, threads: int | None = None) -> Reference:
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


def fresh_seed() -> int:
    """The offset hidden tests draw their inputs with in one grading run (never 0: the notebook's own)."""
    return secrets.randbelow(10**6) + 1


def reference_in_own_slot(release: Release, sandbox: Sandbox, seed: int, threads: int | None) -> Reference:
    """``reference_run`` as a uid no submission ever runs as, in a free slot of this machine."""
    with slots.machine_slot(sandbox.slot) as slot:
        box = dataclasses.replace(sandbox, slot=slot, uid_base=REFERENCE_UID_BASE)
        return reference_run(release, box, seed, threads)


def reference_runs(releases, sandbox: Sandbox, jobs: int = 1, threads: int | None = None,
                   seed: int | None = None) -> dict[str, Reference]:
    """``reference_run`` of every release, ``jobs`` at once, with one fresh seed for this grading run."""
    seed = fresh_seed() if seed is None else seed
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        return {r.assignment: r for r in pool.map(lambda r: reference_in_own_slot(r, sandbox, seed, threads),
                                                  releases)}


class References(Mapping):
    """The solutions' reference runs of one grading run, each made when the first file of its
    assignment needs it (grading one notebook's folder runs one solution, not all of them), once,
    with one seed; a failed run fails every file of its assignment with the same ``ReferenceFailed``."""

    def __init__(self, releases: list[Release], sandbox: Sandbox, threads: int | None, seed: int | None = None):
        self.releases = {r.assignment: r for r in releases}
        self.sandbox, self.threads, self.seed = sandbox, threads, fresh_seed() if seed is None else seed
        self.done: dict[str, Reference | ReferenceFailed] = {}
        self.locks = {a: threading.Lock() for a in self.releases}

    def __getitem__(self, assignment: str) -> Reference:
        with self.locks[assignment]:
            if assignment not in self.done:
                try:
                    self.done[assignment] = reference_in_own_slot(self.releases[assignment], self.sandbox,
                                                                  self.seed, self.threads)
                except ReferenceFailed as error:
                    self.done[assignment] = error
        found = self.done[assignment]
        if isinstance(found, ReferenceFailed):
            raise found
        return found

    def __iter__(self):
        return iter(self.releases)

    def __len__(self) -> int:
        return len(self.releases)


def _cell_reason(cell, record, crashed: bool, limits: Limits) -> str | None:
    """What went wrong in one planned cell, in words (None: nothing worth saying)."""
    if crashed:
        return (f"{cell.label}{' failed' if cell.kind == 'test' else ''}: the process ended in it "
                "(an exit call, a crash or a limit); the notebook ran again without it")
    if cell.kind == "test":
        if record is None:
            return f"{cell.label} failed (did not run)"
        if record.status == "timeout":
            return f"{cell.label} failed (ran longer than {limits.cell_s:g} s)"
        return f"{cell.label} failed" if record.status != "pass" else None
    if record is not None and record.status == "timeout":
        return f"{cell.label}: ran longer than {limits.cell_s:g} s"
    if record is not None and record.error == "MemoryError":
        return f"{cell.label}: MemoryError (over the {limits.memory_gib:g} GiB memory limit)"
    if record is not None and record.status == "fail" and record.error not in verdicts.CONSEQUENTIAL_ERRORS:
        return f"{cell.label}: {record.error}"
    return None


def run_reasons(cells, verdict: dict, report: verdicts.RunReport, outcome, crashed, limits: Limits) -> list[Reason]:
    """Each cell's problem, then the whole run's (wall limit, a process that ended early)."""
    reasons = [Reason(ReasonKind.CELL, text) for cell in cells
               if (text := _cell_reason(cell, verdict[cell.index], cell in crashed, limits)) is not None]
    last_run = next((c for c in reversed(cells) if report.outcome(c.index) is not None), None)
    if outcome.timed_out:
        reasons.append(Reason(ReasonKind.NOTEBOOK, f"stopped at the {limits.wall_s:g} s limit for a whole notebook"))
    elif not report.finished:
        where = f" after {last_run.label}" if last_run else " before its first cell"
        reasons.append(Reason(ReasonKind.NOTEBOOK, f"the notebook's process ended early{where} (an exit call, a "
                                                   "crash or a limit); later cells did not run"))
    return reasons


def unwritten_answers(planned: list[submissions.PlannedCell], release: Release) -> list[str]:
    """The names the release's TODO cells ask for whose cell the submission left as released
    (the stub that raises ``NotImplementedError``), for feedback such as "failed because
    ``gru_backward`` is not written"."""
    stubs = {cells.grade_id(c): c.source.strip() for c in release.notebook.cells if cells.is_answer(c)}
    names = set()
    for cell in planned:
        stub = stubs.get(cell.label)
        left_as_released = stub is not None and cell.source.strip() == stub and "NotImplementedError" in stub
        if cell.kind == "student" and left_as_released:
            names |= repair.requested_names(stub)
    return sorted(names)


def test_result(cell: submissions.PlannedCell, record: verdicts.CellRecord | None, crashed: bool) -> TestResult:
    """One test cell's typed result from its verdict."""
    if crashed:
        return TestResult(cell.label, TestStatus.CRASH, 0.0, cell.points)
    if record is None:
        return TestResult(cell.label, TestStatus.NOTRUN, 0.0, cell.points)
    status = TestStatus(record.status)
    if status is TestStatus.FAIL:
        return TestResult(cell.label, status, 0.0, cell.points, record.error, record.line, record.entry[:200])
    return TestResult(cell.label, status, cell.points if status is TestStatus.PASS else 0.0, cell.points)


def _modified(path: Path) -> float | None:
    try:
        return os.lstat(path).st_mtime
    except OSError:
        return None


def _prepared_reasons(prepared: prepare.Prepared) -> list[Reason]:
    reasons = [Reason(ReasonKind.REPAIRED, prepared.repaired)] if prepared.repaired else []
    if prepared.edited:
        reasons.append(Reason(ReasonKind.EDITED, f"edited course cells run as released: {', '.join(prepared.edited)}"))
    return reasons


def grade_one(path: Path, name: str, releases: list[Release], references: dict[str, Reference],
              sandbox: Sandbox, threads: int | None = None) -> FileResult:
    """Grade one file; always returns a result (0 points and a reason when it cannot be graded).
    Raises ``sandbox.Cancelled`` when grading is being stopped (that file gets no result)."""
    submitted_at = _modified(path)
    try:  # a link, FIFO, device, empty or huge file is refused before anything reads it
        submissions.check_file(path)
    except submissions.Unreadable as error:
        return ungradable(name, str(error), submitted_at=submitted_at)
    except OSError as error:
        return ungradable(name, f"could not read the file ({type(error).__name__})", submitted_at=submitted_at)
    prepared = prepare.prepare_bounded(path, releases)
    if prepared.reason:
        return ungradable(name, prepared.reason, sha256=prepared.sha256, flags=tuple(prepared.flags),
                          submitted_at=submitted_at)
    release = next(r for r in releases if r.assignment == prepared.assignment)
    planned, reference = prepared.cells, references[release.assignment]
    report, outcome, crashed = run_with_restarts(planned, prepared.imports, sandbox, threads, reference.seed,
                                                 outputs=True)
    context = verdicts.Context(prepared.definitions, (prepared.your_name, prepared.your_partner_name))
    verdict = {c.index: judged(c, report.outcome(c.index), reference, context) for c in planned}
    tests = tuple(test_result(c, verdict[c.index], c in crashed) for c in planned if c.kind == "test")
    shown = {c.index for c in planned if c.kind != "test"}  # never output under an instructor's test cell
    return FileResult(
        name, prepared.sha256, release.assignment, prepared.your_name, prepared.your_partner_name,
        points=float(sum(t.points for t in tests)), max_points=release.max_points, finished=report.finished,
        tests=tests, flags=tuple(sorted(set(prepared.flags) | report.flags)),
        reasons=tuple(_prepared_reasons(prepared) + run_reasons(planned, verdict, report, outcome, crashed,
                                                                 sandbox.limits)),
        unwritten=tuple(unwritten_answers(planned, release)), submitted_at=submitted_at,
        copy=GradedCopy(prepared.restored, verdicts.parse_display(outcome.display, shown)))


def judged(cell: submissions.PlannedCell, claimed: verdicts.CellRecord | None, reference: Reference,
           context: verdicts.Context) -> verdicts.CellRecord | None:
    """A cell's record as the grader decides it: a test's claim judged against the solution's run
    (``verdicts.judge``); any other cell as it ran."""
    if cell.kind != "test" or claimed is None:
        return claimed
    expected = reference.cells.get(cell.label)
    if expected is None:
        return verdicts.CellRecord("fail", "NoReference")
    return verdicts.judge(claimed, expected, context)


def submitted_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (links included, to be refused with a reason), never following
    links into other folders; Jupyter's checkpoints are skipped."""
    found = []
    for directory, subdirs, files in os.walk(folder, followlinks=False):
        subdirs[:] = sorted(d for d in subdirs if d != ".ipynb_checkpoints")
        found += [Path(directory) / f for f in sorted(files)]
    return found


def grade_timed(path: Path, name: str, releases, references, sandbox: Sandbox,
                threads: int | None) -> tuple[FileResult, float]:
    """``grade_one`` in the lowest free sandbox slot of this machine from ``sandbox.slot`` on, with
    its time in seconds. An error of the grader itself costs this file's result only."""
    started = time.perf_counter()
    try:
        with slots.machine_slot(sandbox.slot) as slot:
            result = grade_one(path, name, releases, references, dataclasses.replace(sandbox, slot=slot), threads)
    except (Cancelled, ReferenceFailed):
        raise
    except Exception as error:  # noqa: BLE001 - a result with a reason, never a lost class
        result = grader_failed(name, error)
    return result, time.perf_counter() - started


def grader_failed(name: str, error: BaseException) -> FileResult:
    """The result of a file the grader (or a worker) failed on: no points, and grade it again."""
    return ungradable(name, f"the grader failed on this file ({type(error).__name__}); grade it again",
                      ReasonKind.GRADER)
