"""An untrusted submitted file: read it within bounds and plan its run (its release: ``releases``).

Everything here runs outside the sandbox on bytes a student chose, so every step is bounded:
the file's size, the number and size of its cells, the JSON's nesting; outputs are dropped
unread. A file that is not a well-formed notebook raises ``Unreadable`` with a reason the CSV
can show (the reason never quotes the file).

The run plan lists the code cells in order with who wrote them:

* ``test``: an autograded test cell; its source is the instructor's, hidden tests included,
  taken from ``solutions/`` whatever the submission holds in that cell;
* ``instructor``: another locked code cell, taken from the release;
* ``student``: an answer cell, or any cell the student added or could edit.
"""
from __future__ import annotations

import ast
import errno
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .cells import HIDDEN_MARKERS, defined_names, is_answer, is_course, is_test, nbgrader_meta, parse_cell
from .releases import Release
from .repair import requested_names

MAX_BYTES = 128 * 2**20      # files this large are mostly outputs, which are dropped unread
MAX_CELLS = 1000
MAX_CELL_CHARS = 200_000
MAX_SOURCE_CHARS = 5_000_000  # all cells together
CELL_TYPES = {"code", "markdown", "raw"}
NBGRADER_KEYS = {"grade": bool, "solution": bool, "locked": bool, "grade_id": str, "points": (int, float),
                 "schema_version": int, "task": bool}
GRADE_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


class Unreadable(Exception):
    """The file cannot be graded; ``str(error)`` is the reason for the CSV."""


def _text(value, what: str) -> str:
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        value = "".join(value)
    if not isinstance(value, str):
        raise Unreadable(f"malformed notebook: {what} is not text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (JSON allows "\ud800"): no later stage could write it
        raise Unreadable(f"malformed notebook: {what} holds text that is not valid Unicode; "
                         "re-download the .ipynb") from None
    return value


def _clean_nbgrader(meta) -> dict | None:
    if not isinstance(meta, dict):
        return None
    clean = {k: v for k, v in meta.items() if k in NBGRADER_KEYS and isinstance(v, NBGRADER_KEYS[k])}
    if "grade_id" in clean and not GRADE_ID.fullmatch(clean["grade_id"]):
        return None
    return clean or None


def check_file(path: Path) -> None:
    """Raise ``Unreadable`` unless ``path`` is a regular file (not a link), neither empty nor over
    ``MAX_BYTES``: the checks made before any byte of it is read."""
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable("not a regular file (a link or a device): submit the downloaded .ipynb itself")
    if info.st_size == 0:
        raise Unreadable("empty file: re-download the .ipynb and submit it again")
    if info.st_size > MAX_BYTES:
        raise Unreadable(f"larger than {MAX_BYTES // 2**20} MB: clear the outputs (Edit > Clear all outputs) "
                         "and submit again")


def open_regular(path: Path):
    """``path`` opened for reading, never following a link and never blocking on a FIFO or a
    device: what is opened is checked (``fstat``) to be a regular file of at most ``MAX_BYTES``,
    so nothing that is not one is ever read. Raises ``Unreadable`` (with what to do) otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Unreadable("not a regular file (a link or a device): submit the downloaded .ipynb itself") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
        os.close(fd)
        check_file(path)  # says which (and raises)
        raise Unreadable("not a regular file (a link or a device): submit the downloaded .ipynb itself")
    return os.fdopen(fd, "rb")


def sha256(path: Path) -> str:
    """The file's SHA-256 (hex), read in 1 MiB blocks from ``open_regular`` (at most ``MAX_BYTES``)."""
    digest, left = hashlib.sha256(), MAX_BYTES
    with open_regular(path) as handle:
        while left > 0 and (block := handle.read(min(2**20, left))):
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


ARCHIVE_STARTS = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b")  # zip (an LMS's bulk download), empty zip, gzip
UNZIP = ("an archive, not a notebook (the LMS's download, still packed): unzip it into the submissions "
         "folder and grade again")


def is_archive(path: Path) -> bool:
    """Whether ``path`` is a regular file that starts like a zip or gzip archive."""
    try:
        with open_regular(path) as handle:
            return handle.read(4).startswith(ARCHIVE_STARTS)
    except (OSError, Unreadable):
        return False


def files_by_hash(paths) -> dict[str, Path]:
    """The regular files among ``paths`` by their SHA-256 (links and special files left out): how
    later stages find a graded file again, whatever its name became in a table (cut, re-spaced or
    escaped there), and know it is still the bytes that were graded."""
    found: dict[str, Path] = {}
    for path in paths:
        try:
            found.setdefault(sha256(path), path)
        except (OSError, Unreadable):
            continue
    return found


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The submitted notebook's cells (sources, cell types, nbgrader metadata and tags only)."""
    check_file(path)
    with open_regular(path) as handle:
        data = handle.read(MAX_BYTES + 1)
    if data.startswith(ARCHIVE_STARTS):
        raise Unreadable(UNZIP)
    try:
        document = json.loads(data.decode("utf-8-sig"))  # some editors write a byte-order mark
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError):
        raise Unreadable("not a readable notebook (not JSON text): re-download the .ipynb") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise Unreadable("not a Jupyter notebook (no list of cells): re-download the .ipynb")
    cells = document["cells"]
    if len(cells) > MAX_CELLS:
        raise Unreadable(f"more than {MAX_CELLS} cells: not a notebook of this course")
    notebook, total = nbformat.v4.new_notebook(), 0
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES:
            raise Unreadable(f"malformed notebook: cell {number} has no valid cell_type")
        source = _text(cell.get("source", ""), f"the source of cell {number}").replace("\r\n", "\n")
        total += len(source)
        if len(source) > MAX_CELL_CHARS or total > MAX_SOURCE_CHARS:
            raise Unreadable(f"cell {number} holds more than {MAX_CELL_CHARS:,} characters"
                             if len(source) > MAX_CELL_CHARS
                             else f"the cells hold more than {MAX_SOURCE_CHARS:,} characters of code and text")
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        kept = {}
        if (nbgrader := _clean_nbgrader(metadata.get("nbgrader"))) is not None:
            kept["nbgrader"] = nbgrader
        tags = metadata.get("tags")
        if isinstance(tags, list) and all(isinstance(t, str) and len(t) < 100 for t in tags[:20]):
            kept["tags"] = tags[:20]
        make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
                "raw": nbformat.v4.new_raw_cell}[cell["cell_type"]]
        notebook.cells.append(make(source, metadata=kept))
    return notebook


def pair_names(notebook) -> tuple[str, str]:
    """``your_name`` and ``your_partner_name`` assigned as string literals (the last assignment
    in any code cell wins, so a pair cell that lost its metadata still counts)."""
    names = {"your_name": "", "your_partner_name": ""}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tree = parse_cell(cell.source)
        if tree is None:
            continue
        for node in tree.body:
            pairs = []
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) \
                            and len(target.elts) == len(node.value.elts):
                        pairs += zip(target.elts, node.value.elts)  # your_name, your_partner_name = "A", "B"
                    else:
                        pairs.append((target, node.value))
            for target, value in pairs:
                if isinstance(target, ast.Name) and target.id in names and isinstance(value, ast.Constant) \
                        and isinstance(value.value, str):
                    names[target.id] = value.value.strip()
    return names["your_name"], names["your_partner_name"]


def _imports(source: str) -> list[tuple[str, str, str | None]]:
    """(bound name, module, attribute or None) for each top-level import in ``source``."""
    tree = parse_cell(source)
    if tree is None:
        return []
    bound = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound.append((alias.asname, alias.name, None))
                else:
                    root = alias.name.split(".")[0]
                    bound.append((root, root, None))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            bound += [(a.asname or a.name, node.module, a.name) for a in node.names if a.name != "*"]
    return bound


@dataclass
class PlannedCell:
    index: int        # position among the submission's cells (0-based)
    kind: str         # test | instructor | student
    source: str
    label: str        # grade_id, or "cell N"
    points: float     # autograded points (tests only)
    own: bool         # written by the student (scanned for tampering)
    defines: tuple[str, ...] = ()  # course cells: functions, classes and imports the runner keeps as they were


def answer_names(release: Release) -> set[str]:
    """Every name an answer cell asks for or the solution defines (``rnn_forward``, ``your_name``)."""
    names: set[str] = set()
    for cell in release.notebook.cells:
        if is_answer(cell):
            names |= requested_names(cell.source)
    for cell in release.solution.cells:
        if is_answer(cell):
            names |= defined_names(cell.source)
    return names


def _course_definitions(source: str, answers: set[str]) -> tuple[str, ...]:
    """Top-level functions, classes and imports of a course cell, except answers."""
    tree = parse_cell(source)
    if tree is None:
        return ()
    names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    names |= {name for name, _, _ in _imports(source)}
    return tuple(sorted(names - answers))


def plan(notebook, release: Release) -> list[PlannedCell]:
    """The code cells of a repaired submission, each with the source that will run."""
    tests = {nbgrader_meta(c).get("grade_id"): HIDDEN_MARKERS.sub("", c.source) for c in release.solution.cells
             if is_test(c)}
    locked = {nbgrader_meta(c).get("grade_id"): c.source for c in release.notebook.cells
              if is_course(c)}
    course_sources = {c.source.strip() for c in release.notebook.cells}
    answers = answer_names(release)
    planned = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        meta, label = nbgrader_meta(cell), f"cell {index + 1}"
        grade_id = meta.get("grade_id")
        if is_test(cell) and grade_id in tests:
            planned.append(PlannedCell(index, "test", tests[grade_id], grade_id, float(meta.get("points", 0)), False))
        elif is_course(cell) and grade_id in locked:
            planned.append(PlannedCell(index, "instructor", locked[grade_id], grade_id, 0.0, False,
                                       _course_definitions(locked[grade_id], answers)))
        else:
            own = cell.source.strip() not in course_sources or is_answer(cell)
            defines = () if own else _course_definitions(cell.source, answers)
            planned.append(PlannedCell(index, "student", cell.source, grade_id or label, 0.0, own, defines))
    return planned


def trusted_imports(release: Release) -> list[tuple[str, str, str | None]]:
    """Names the course's own cells bind by import, except those an answer cell must define:
    the runner binds them again before every test, so a submission cannot swap ``check_pair``
    or ``np`` for a fake (and a deleted import cell does not cost the tests)."""
    answers = answer_names(release)
    bindings = {}
    for cell in [*release.notebook.cells, *release.solution.cells]:
        if cell.cell_type == "code" and not is_answer(cell):
            for name, module, attribute in _imports(HIDDEN_MARKERS.sub("", cell.source)):
                if name not in answers:
                    bindings.setdefault(name, (name, module, attribute))
    return sorted(bindings.values())
