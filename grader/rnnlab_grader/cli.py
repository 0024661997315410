"""``rnnlab-grade`` (``make grade SUBMISSIONS=<folder>``): autograde a folder of submissions into CSVs.

Files are graded ``--jobs`` at a time (default: one per core), each in its own sandbox with its
share of the cores' threads, or on a Dask cluster (``--scheduler``, see ``cluster``). One table has
a row per file, ``--students`` one per student; ``--feedback``, ``--summary`` and ``--gradebook``
write the students' pages, the instructor's figure and the formgrader import. For each file,
outside the sandbox and bounded (``submissions``): read it, find its release, give back lost
nbgrader metadata (``repair``), read the pair names, scan the student's own cells for reaches into
the interpreter (``tampering``) and plan the run. Inside a fresh bubblewrap
sandbox (``sandbox``): the runner executes the plan and reports signed verdicts (``runner``).
Outside again: points from verified verdicts and the release's metadata (``verdicts``), a row
written atomically (``reports``). Nothing a submission writes is read back except that report.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import importlib.util
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm.auto import tqdm

from . import feedback, repair, reports, runner, slots, submissions, summary, tampering, verdicts
from .sandbox import Limits, Sandbox, SandboxUnavailable

RUNNER = Path(runner.__file__).resolve()
REFERENCE = Path(importlib.util.find_spec(runner.REFERENCE_PACKAGE).origin).resolve().parent
MAX_RUNS = 3  # a run that dies in a cell is repeated without it, at most this many runs in all
DEBUG = "RNNLAB_GRADE_DEBUG"  # set: the runner's stderr (tracebacks of course cells) is printed here


def readable_paths() -> list[Path]:
    """What the runner needs to see: this Python and its environment, the rnnlab sources, the runner."""
    spec = importlib.util.find_spec("rnnlab")
    paths = [Path(sys.prefix), Path(sys.base_prefix), RUNNER]
    if spec and spec.origin:
        paths.append(Path(spec.origin).resolve().parent.parent)  # the folder that holds rnnlab/
    return paths


@functools.cache
def reference_sources() -> dict[str, str]:
    """The instructor-only reference modules for the hidden tests, package first: the runner builds
    them in memory for test cells (they are never on a path the sandbox shows). Read once a run."""
    modules = sorted(p for p in REFERENCE.glob("*.py") if p.name != "__init__.py")
    return {runner.REFERENCE_PACKAGE: (REFERENCE / "__init__.py").read_text(),
            **{f"{runner.REFERENCE_PACKAGE}.{p.stem}": p.read_text() for p in modules}}


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


def run_with_restarts(cells: list[submissions.PlannedCell], imports, sandbox: Sandbox, threads: int | None = None):
    """Run the plan in a fresh sandbox; when the process dies in a cell (an exit call, a crash, a
    kill by a limit), run it again from the start without that cell, at most ``MAX_RUNS`` times
    within the one wall limit, so a crash costs that cell and not the tests after it.
    Returns the last run's verified report (flags of every run), its outcome and the cells skipped."""
    crashed: list[submissions.PlannedCell] = []
    flags, forged, started = set(), 0, time.monotonic()
    for attempt in range(MAX_RUNS):
        todo = [c for c in cells if c not in crashed]
        left = sandbox.limits.wall_s - (time.monotonic() - started)
        box = dataclasses.replace(sandbox, limits=dataclasses.replace(sandbox.limits, wall_s=max(left, 1.0)))
        payload = {"cells": [{"index": c.index, "kind": c.kind, "source": c.source, "defines": c.defines}
                             for c in todo],
                   "cell_timeout": sandbox.limits.cell_s, "trusted_imports": imports,
                   "preimport": sorted({module for _, module, _ in imports}), "debug": bool(os.environ.get(DEBUG)),
                   "reference": reference_sources()}
        key = verdicts.new_key()
        outcome = box.run([sys.executable, "-I", str(RUNNER)], runner_env(threads), stdin=json.dumps(payload).encode(),
                          secret=key)
        report = verdicts.parse(outcome.report, key)
        flags |= report.flags
        forged += report.forged_lines
        if outcome.stderr_head and os.environ.get(DEBUG):
            print(reports.safe_text(outcome.stderr_head.decode(errors="replace"), 2000), file=sys.stderr)
        dead = next((c for c in todo if report.outcome(c.index) is None), None)
        if report.finished or outcome.timed_out or dead is None or attempt == MAX_RUNS - 1 or left <= 1.0:
            break
        crashed.append(dead)
    report.flags, report.forged_lines = flags, forged
    return report, outcome, crashed


def _reasons_for(cells, report: verdicts.Report, outcome, crashed, limits: Limits) -> list[str]:
    reasons, last_run = [], None
    for cell in cells:
        record = report.outcome(cell.index)
        if record is not None:
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


def empty_row(name: str, reason: str = "") -> dict:
    """A row with no points, for a file that could not be graded (yet)."""
    return {"submission": name, "sha256": "", "your_name": "", "your_partner_name": "", "assignment": "",
            "points": 0.0, "max_points": 0.0, "flags": [], "reason": reason, "failed": True, "tests": []}


def grade_one(path: Path, name: str, releases: list[submissions.Release], sandbox: Sandbox,
              threads: int | None = None) -> dict:
    """Grade one file; always returns a row (0 points and a reason when it cannot be graded).
    ``row["failed"]`` is true when the file could not be graded or its run did not finish."""
    row = empty_row(name)
    try:
        row["sha256"] = _sha256(path)
        notebook = submissions.read_submission(path)
    except submissions.Unreadable as error:
        row["reason"] = str(error)
        return row
    except OSError as error:
        row["reason"] = f"could not read the file ({type(error).__name__})"
        return row
    release = submissions.identify(notebook, releases)
    if release is None:
        row["reason"] = "not a notebook of this course (no cell of any released notebook found)"
        return row
    row.update(assignment=release.assignment, max_points=release.max_points)
    try:
        restoration = repair.restore(notebook, release.notebook)
    except Exception as error:  # noqa: BLE001 - a row, not a crash
        row["reason"] = f"could not align with the release version ({type(error).__name__})"
        return row
    row["your_name"], row["your_partner_name"] = submissions.pair_names(restoration.notebook)
    cells = submissions.plan(restoration.notebook, release)
    report, outcome, crashed = run_with_restarts(cells, submissions.trusted_imports(release), sandbox, threads)
    row["failed"] = not report.finished
    row["points"] = float(sum(c.points for c in cells if c.kind == "test"
                              and (r := report.outcome(c.index)) is not None and r.status == "pass"))
    flags = sorted(set(tampering.scan([c.source for c in cells if c.own])) | report.flags)
    row["flags"] = flags
    row["tests"] = [reports.test_token(c.label, report.outcome(c.index), c in crashed) for c in cells if c.kind == "test"]
    reasons = [f"FLAGGED for review: {', '.join(flags)}"] if flags else []
    if restoration.summary():
        reasons.append(restoration.summary())
    edited = [c.label for c in cells if c.kind == "instructor"
              and restoration.notebook.cells[c.index].source.strip() != c.source.strip()]
    if edited:
        reasons.append(f"edited course cells run as released: {', '.join(edited)}")
    row["reason"] = "; ".join(reasons + _reasons_for(cells, report, outcome, crashed, sandbox.limits))
    return row


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def submitted_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (links included, to be refused with a reason), never following
    links into other folders; Jupyter's checkpoints are skipped."""
    found = []
    for directory, subdirs, files in os.walk(folder, followlinks=False):
        subdirs[:] = sorted(d for d in subdirs if d != ".ipynb_checkpoints")
        found += [Path(directory) / f for f in sorted(files)]
    return found


def grade_timed(path: Path, name: str, releases, sandbox: Sandbox, threads: int | None) -> tuple[dict, float]:
    """``grade_one`` in the lowest free sandbox slot of this machine from ``sandbox.slot`` on, with
    its time in seconds. An error of the grader itself costs this file's row only."""
    started = time.perf_counter()
    try:
        with slots.machine_slot(sandbox.slot) as slot:
            row = grade_one(path, name, releases, dataclasses.replace(sandbox, slot=slot), threads)
    except Exception as error:  # noqa: BLE001 - a row with a reason, never a lost class
        row = empty_row(name, f"the grader failed on this file ({type(error).__name__}); grade it again")
    return row, time.perf_counter() - started


class LocalWorkers:
    """``jobs`` threads of this process, each grading one file at a time in its own sandbox."""

    def __init__(self, releases, sandbox: Sandbox, jobs: int, threads: int | None):
        self.releases, self.sandbox, self.threads = releases, sandbox, threads
        self.pool = ThreadPoolExecutor(jobs)
        self.description = f"{jobs} at once, {threads or 'all'} thread(s) each"

    def results(self, todo: list[tuple[Path, str]]):
        """``(name, future)`` for each file as it finishes."""
        futures = {self.pool.submit(grade_timed, path, name, self.releases, self.sandbox, self.threads): name
                   for path, name in todo}
        for future in as_completed(futures):
            yield futures[future], future

    def close(self) -> None:
        self.pool.shutdown()


def grade_all(todo: list[tuple[Path, str]], workers, grades: reports.GradesFile) -> None:
    """Grade ``(path, name)`` pairs on ``workers`` (``LocalWorkers`` or ``cluster.DaskWorkers``).
    Rows reach the CSV as files finish and are sorted by file name at the end, so the table is the
    same whatever the workers. A worker that fails on one file costs that file's row only."""
    failed = 0
    with tqdm(total=len(todo), desc="grading", unit="file", disable=not sys.stderr.isatty()) as bar:
        for name, future in workers.results(todo):
            try:
                row, seconds = future.result()
            except Exception as error:  # noqa: BLE001 - a worker that died, a lost connection
                row, seconds = empty_row(name, f"the grader failed on this file ({type(error).__name__}); "
                                                          "grade it again"), 0.0
            grades.add(row)
            failed += bool(row.get("failed"))
            bar.update(1)
            bar.set_postfix(failed=failed, refresh=False)
            bar.write(f"  {reports.safe_text(row['submission'], 80)}: {row['points']:g}/{row['max_points']:g} "
                      f"in {seconds:.0f} s" + (f"  ({reports.safe_text(row['reason'], 300)})" if row["reason"] else ""))
    grades.sort()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnnlab-grade", description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder of submitted files (searched recursively)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root (notebooks/, solutions/)")
    parser.add_argument("--out", type=Path, default=Path("grades-by-file.csv"), help="the table of one row per file")
    parser.add_argument("--students", type=Path, default=None,
                        help="also write one row per student here (both partners credited; written at the end)")
    parser.add_argument("--feedback", type=Path, default=None,
                        help="write one HTML page per student and notebook here (no hidden-test code)")
    parser.add_argument("--summary", type=Path, default=None,
                        help="save the instructor's summary figure here (points per notebook, most failed tests)")
    parser.add_argument("--gradebook", type=Path, default=None,
                        help="the course's nbgrader gradebook.db: import each pair's autograded results and "
                             "graded cells (autograded/ next to it) for formgrader, and add hand-graded points "
                             "to the --students table; hand grades are never overwritten")
    parser.add_argument("--wall", type=float, default=Limits.wall_s, help="seconds per submission")
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_s, help="seconds per cell")
    parser.add_argument("--memory-gib", type=float, default=Limits.memory_gib)
    parser.add_argument("--processes", type=int, default=Limits.processes, help="processes and threads per sandbox")
    parser.add_argument("--resume", action="store_true", help="keep the CSV's rows and skip files already graded")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once, each in its own sandbox (default: the number of cores)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch/BLAS threads per sandbox (default: cores divided by jobs)")
    parser.add_argument("--slot", type=int, default=0,
                        help="as root, submissions run as uid 62000+SLOT or the next free slot on this machine "
                             "(graders running at once take different slots by themselves)")
    parser.add_argument("--scheduler", default=None,
                        help="grade on the Dask cluster whose scheduler is here (tcp://host:8786) instead of "
                             "this machine's --jobs; every worker needs the course installed and bubblewrap")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run submissions WITHOUT isolation (only if you trust every one of them)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "notebooks").is_dir():
        print(f"No notebooks/ in {root}: run `make release` first.", file=sys.stderr)
        return 2
    files = submitted_files(args.submissions)
    if not files:
        print(f"No files under {args.submissions}.", file=sys.stderr)
        return 2
    limits = Limits(args.wall, args.cell_timeout, args.memory_gib, args.processes)
    sandbox = Sandbox(readable_paths(), limits, slot=args.slot, unsafe=args.unsafe_no_sandbox, hidden=[REFERENCE])
    try:
        if not args.scheduler:  # on a cluster each worker checks its own
            sandbox.check()
    except SandboxUnavailable as error:
        print(f"Refusing to run untrusted submissions: {error}", file=sys.stderr)
        return 2
    releases = submissions.load_releases(root)
    grades = reports.GradesFile(args.out, sorted({r.assignment for r in releases}), resume=args.resume)
    todo = []
    for path in files:
        name = str(path.relative_to(args.submissions))
        if args.resume and path.is_file() and not path.is_symlink() and grades.done(name, _sha256(path)):
            continue
        todo.append((path, name))
    if args.scheduler:
        from .cluster import DaskWorkers
        workers = DaskWorkers(args.scheduler, releases, limits, args.unsafe_no_sandbox, args.slot, args.threads)
    else:
        jobs = max(1, min(args.jobs, len(todo) or 1))
        workers = LocalWorkers(releases, sandbox, jobs, args.threads or max(1, (os.cpu_count() or 1) // jobs))
    mode = "WITHOUT a sandbox (--unsafe-no-sandbox)" if sandbox.unsafe else "in a bubblewrap sandbox each"
    print(f"grading {len(todo)} files {mode}, {workers.description}", flush=True)
    try:
        grade_all(todo, workers, grades)
    finally:
        workers.close()
    print(f"wrote {args.out}")
    hand = written_max = None
    if args.gradebook:
        from . import gradebook

        url = f"sqlite:///{args.gradebook.resolve()}"
        imported = gradebook.import_results(url, args.gradebook.resolve().parent, args.submissions,
                                            grades.records, releases)
        print(f"imported {imported.submissions} pair submissions into {args.gradebook} for formgrader"
              + "".join(f"\n  not imported: {reports.safe_text(s, 200)}" for s in imported.skipped))
        hand = gradebook.hand_scores(url, grades.records, grades.assignments)
        written_max = {r.assignment: submissions.points(r.notebook)[1] for r in releases}
    if args.students:
        reports.write_student_table(args.students, grades.records, grades.assignments,
                                    {r.assignment: r.max_points for r in releases}, hand, written_max)
        print(f"wrote {args.students}")
    if args.feedback:
        count = feedback.write_feedback(args.feedback, grades.records, releases)
        print(f"wrote {count} feedback pages under {args.feedback}")
    if args.summary:
        summary.summary_figure(args.summary, grades.records, {r.assignment: r.max_points for r in releases})
        print(f"wrote {args.summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
