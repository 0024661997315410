"""Prepare a submitted file for its run, in a process of its own with CPU-time and memory limits.

Preparing reads bytes a student chose: parse the JSON, find the release, give back lost nbgrader
metadata (``repair``), read the pair names and the code the student's cells define
(``source_checks``), scan them (``tampering``) and plan the run (``submissions``). Every step is
bounded by size already; a file can still be built to cost a lot of memory (128 MB of ``{},``)
or time (1,000 dense cells within every cap). So the grader does it in a child process
(``prepare_bounded``) under ``RLIMIT_AS`` and ``RLIMIT_CPU`` and a wall limit: a file that runs
into them gets a row with a reason, flagged for a person, and costs nobody else anything. No
submission code runs here, only parsing. Each grading thread keeps one helper process
(``Preparer``) that imported this code once and forks a fresh child per file (about 0.1 s a
file instead of 4 s of imports); the child sends back plain JSON, which the grader reads into
typed records.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pickle
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import repair, source_checks, submissions, tampering
from .releases import Release, identify

MEMORY_BYTES = 3 * 2**30   # address space of the preparing process
CPU_S = 60                 # CPU seconds of the preparing process
WALL_S = 120               # and its wall time
LIMIT_FLAG = "prepare-limit"


@dataclass
class Prepared:
    """A file ready to run (``reason`` empty), or why it cannot be graded (``reason``)."""

    sha256: str = ""
    reason: str = ""
    flags: list[str] = field(default_factory=list)
    assignment: str = ""
    your_name: str = ""
    your_partner_name: str = ""
    cells: list[submissions.PlannedCell] = field(default_factory=list)
    imports: list = field(default_factory=list)
    definitions: dict = field(default_factory=dict)
    repaired: str = ""          # what repair put back (``Restoration.summary``)
    edited: list[str] = field(default_factory=list)  # course cells the student edited (run as released)
    restored: str = ""          # the restored notebook as nbformat JSON, outputs dropped (``results.GradedCopy``)


def prepare(path: Path, releases: list[Release]) -> Prepared:
    """Everything the grader needs before the run, from the file alone (in this process)."""
    prepared = Prepared()
    try:
        prepared.sha256 = submissions.sha256(path)  # links, devices, FIFOs, huge files: refused unread
        notebook = submissions.read_submission(path)
    except submissions.Unreadable as error:
        prepared.reason = str(error)
        return prepared
    except OSError as error:
        prepared.reason = f"could not read the file ({type(error).__name__})"
        return prepared
    release = identify(notebook, releases)
    if release is None:
        prepared.reason = "not a notebook of this course (no cell of any released notebook found)"
        return prepared
    prepared.assignment = release.assignment
    try:
        restoration = repair.restore(notebook, release.notebook)
    except Exception as error:  # noqa: BLE001 - a row, not a crash
        prepared.reason = f"could not align with the release version ({type(error).__name__})"
        return prepared
    prepared.your_name, prepared.your_partner_name = submissions.pair_names(restoration.notebook)
    prepared.cells = submissions.plan(restoration.notebook, release)
    prepared.imports = submissions.trusted_imports(release)
    prepared.definitions = source_checks.definitions([c.source for c in prepared.cells if c.kind == "student"])
    prepared.flags = sorted(tampering.scan([c.source for c in prepared.cells if c.own]))
    prepared.repaired = restoration.summary()
    prepared.edited = [c.label for c in prepared.cells if c.kind == "instructor"
                       and restoration.notebook.cells[c.index].source.strip() != c.source.strip()]
    prepared.restored = graded_copy(restoration.notebook)
    return prepared


def graded_copy(notebook) -> str:
    """The restored notebook as kept for formgrader and the similarity report: nbformat JSON
    without the file's own outputs (those shown are the sandboxed run's)."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.writes(notebook)


def _to_json(prepared: Prepared) -> str:
    data = dataclasses.asdict(prepared)
    data["definitions"] = {name: [[sorted(use.identifiers), sorted(use.reads)] for use in bindings]
                           for name, bindings in prepared.definitions.items()}
    return json.dumps(data)


def _from_json(text: str) -> Prepared:
    data = json.loads(text)
    cells = [submissions.PlannedCell(c["index"], c["kind"], c["source"], c["label"], float(c["points"]), bool(c["own"]),
                                     tuple(c["defines"])) for c in data.pop("cells")]
    definitions = {name: tuple(source_checks.Use(frozenset(used), frozenset(read)) for used, read in bindings)
                   for name, bindings in data.pop("definitions").items()}
    imports = [tuple(i) for i in data.pop("imports")]
    return Prepared(**data, cells=cells, definitions=definitions, imports=imports)


def _send(stream, data: bytes) -> None:
    stream.write(len(data).to_bytes(8, "big") + data)
    stream.flush()


def _receive(stream) -> bytes | None:
    head = stream.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "big")
    data = stream.read(size)
    return data if len(data) == size else None


class Preparer:
    """A long-lived helper process that has imported the preparation code once (nbformat alone takes
    over a second to import) and forks one child per file; each child sets the limits, prepares the
    file and sends back JSON. The helper holds the releases it was started with."""

    def __init__(self, releases):
        self.releases = releases
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "rnnlab_grader.prepare"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=env, start_new_session=True)
        _send(self.process.stdin, pickle.dumps(releases))  # the grader's own data, to its own helper

    def prepare(self, path: Path, memory_bytes: int, cpu_s: int, wall_s: float) -> str | None:
        """The child's JSON for ``path``, or None when it ran into a limit or died."""
        _send(self.process.stdin, json.dumps({"path": str(path), "memory": memory_bytes, "cpu": cpu_s,
                                              "wall": wall_s}).encode())
        reply = _receive(self.process.stdout)
        if reply is None:
            raise BrokenPipeError("the preparing helper ended")
        return reply.decode() if reply else None

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


_local = threading.local()


def _preparer(releases) -> Preparer:
    """This thread's helper for these releases (started on first use, again if it died)."""
    helper = getattr(_local, "helper", None)
    if helper is None or helper.releases is not releases or helper.process.poll() is not None:
        if helper is not None:
            helper.close()
        helper = _local.helper = Preparer(releases)
    return helper


def prepare_bounded(path: Path, releases: list[Release], memory_bytes: int = MEMORY_BYTES,
                    cpu_s: int = CPU_S, wall_s: float = WALL_S) -> Prepared:
    """``prepare`` in a child process under the limits; a child that runs into them (or dies)
    gives a ``Prepared`` with a reason and the ``prepare-limit`` flag."""
    try:
        try:
            reply = _preparer(releases).prepare(path, memory_bytes, cpu_s, wall_s)
        except (BrokenPipeError, OSError):
            _local.helper.close()
            _local.helper = None
            reply = _preparer(releases).prepare(path, memory_bytes, cpu_s, wall_s)  # once more, a fresh helper
        if reply is not None:
            return _from_json(reply)
    except (ValueError, KeyError, TypeError, BrokenPipeError, OSError):
        pass  # a reply that does not fit, or a helper that died twice: treated as a failure
    try:  # bounded: a regular file of at most MAX_BYTES, never a link, FIFO or device
        digest = submissions.sha256(path)
    except (OSError, submissions.Unreadable):
        digest = ""
    return Prepared(sha256=digest, flags=[LIMIT_FLAG],
                    reason=f"could not be read within the grader's limits ({memory_bytes / 2**30:g} GiB, {cpu_s} s "
                           "of CPU): not a notebook this course can grade; flagged for a person")


def _prepare_in_child(releases, request: dict) -> bytes:
    """Fork a child that prepares one file under the limits; its JSON, or b"" past a limit."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: limits first, then the file
        os.close(read_end)
        code, data = 0, b""
        try:
            resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
            resource.setrlimit(resource.RLIMIT_CPU, (request["cpu"], request["cpu"] + 5))
            data = _to_json(prepare(Path(request["path"]), releases)).encode()
        except BaseException:  # noqa: BLE001 - MemoryError, RecursionError, a CPU limit: no JSON
            code, data = 3, b""
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view[:2**20]):]
        os._exit(code)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + float(request["wall"])
    while True:
        ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            chunks = None
            break
        chunk = os.read(read_end, 2**20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if chunks is None or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return b""
    return b"".join(chunks)


def main() -> int:
    """The helper: releases first, then one request per file until the grader closes the pipe.
    A Ctrl-C is the grader's to handle: the helper ends when its pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    releases = pickle.loads(_receive(stdin))
    while (request := _receive(stdin)) is not None:
        _send(stdout, _prepare_in_child(releases, json.loads(request)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
