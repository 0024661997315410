"""The course's results: one store that every grading run adds to, and the tables are made from.

A store is a folder (``make grade`` uses ``grades-results/`` beside the tables):

* ``results.jsonl``: one ``FileResult`` per line (``results.to_json``), appended and flushed to
  disk as each file finishes. A later line for the same (assignment, path) replaces an earlier
  one, so grading notebook 02's folder after notebook 01's keeps both, and grading a file again
  keeps its newest result. A line cut short by a crash is skipped when the store is read; nothing
  before it is lost.
* ``copies/<sha256>.json``: the graded copy of each file (``results.GradedCopy``), written before
  its line, for formgrader and the similarity report: later stages never read a submitted file again.
* ``worksheets/<sha256>.csv``: each Moodle grading worksheet a run was given (``--moodle-worksheet``),
  kept so that every later run tells the same students apart without being given it again.
* ``lock``: held (``fcntl.flock``) by the one grading run that may write the store; a second run on
  the same course is refused with a message saying so (``StoreBusy``).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from pathlib import Path

from . import results
from .results import FileResult, GradedCopy

RESULTS, COPIES, WORKSHEETS, LOCK = "results.jsonl", "copies", "worksheets", "lock"


class StoreBusy(RuntimeError):
    """Another grading run holds the store's lock."""


class Store:
    """The results store in ``folder`` (created on first use)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / RESULTS
        self.results: dict[tuple[str, str], FileResult] = {}
        self.skipped_lines = 0

    @contextlib.contextmanager
    def locked(self):
        """Hold the store for one grading run; raises ``StoreBusy`` if another run holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / LOCK, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreBusy(f"another grading run is writing {self.folder} (make grade is already running on "
                                "this course): wait for it to finish, or stop it, then grade again") from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield self

    def worksheets(self, given: tuple[Path, ...] = ()) -> list[Path]:
        """Every Moodle grading worksheet this course was given: ``given`` is kept first (by content,
        so giving one again adds nothing); returns the kept ones."""
        folder = self.folder / WORKSHEETS
        for path in given:
            data = path.read_bytes()
            folder.mkdir(parents=True, exist_ok=True)
            kept = folder / f"{hashlib.sha256(data).hexdigest()}.csv"
            if not kept.exists():
                _write_atomic(kept, data)
        return sorted(folder.glob("*.csv")) if folder.is_dir() else []

    def load(self) -> Store:
        """Read every finished result (the newest per assignment and path)."""
        self.results, self.skipped_lines = {}, 0
        if not self.path.exists():
            return self
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    result = results.from_json(line)
                except (ValueError, KeyError, TypeError):
                    self.skipped_lines += 1  # a line cut short by a crash
                    continue
                self.results.pop(result.key, None)  # keeps insertion order = order of grading
                self.results[result.key] = result
        return self

    def graded_files(self) -> set[tuple[str, str]]:
        """(path, sha256) of every file the store holds a result of (``RESUME=1`` skips them)."""
        return {(r.path, r.sha256) for r in self.results.values()}

    def add(self, result: FileResult) -> None:
        """Keep ``result``: its graded copy first, then its line, flushed to disk."""
        if result.copy is not None and result.sha256:
            self._write_copy(result.sha256, result.copy)
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell():
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":  # the end of a line a crash cut short
                    handle.write(b"\n")
            handle.write(results.to_json(result).encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.results.pop(result.key, None)
        self.results[result.key] = result

    def all(self) -> list[FileResult]:
        """Every result, ordered by path then assignment (the same tables whatever the order of grading)."""
        return sorted(self.results.values(), key=lambda r: (r.path, r.assignment))

    def copy_of(self, result: FileResult) -> GradedCopy | None:
        """The graded copy of ``result`` (None when the store has none)."""
        if result.copy is not None:
            return result.copy
        path = self.folder / COPIES / f"{result.sha256}.json"
        if not result.sha256 or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return GradedCopy(data["notebook"], {int(k): v for k, v in data["outputs"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def _write_copy(self, sha256: str, copy: GradedCopy) -> None:
        folder = self.folder / COPIES
        folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"notebook": copy.notebook, "outputs": {str(k): v for k, v in copy.outputs.items()}})
        _write_atomic(folder / f"{sha256}.json", data.encode("utf-8"))


def _write_atomic(path: Path, data: bytes) -> None:
    """``data`` into ``path`` through a temporary file beside it: a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".write.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
