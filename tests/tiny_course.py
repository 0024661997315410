"""The tiny course the grading tests build: one assignment worth 5 points (pair cell 1,
``square`` 2, ``add`` 2; the tests have hidden parts and record the values they check, one of
them drawn with the grading run's seed) in the layout of the real one, and the builders of
submissions the tests hand to the real grader (``run_grader``).

Timeouts, each far from ordinary slowness: course and answer cells here take milliseconds (the
runner imports torch and rnnlab before the first cell) and the busiest hostile cells (escape,
fork bomb) well under a second, against a 10 s cell limit that only the endless loop reaches; a
tiny notebook takes about 3 s idle and gets 240 s (``WALL_S``).
"""
import copy
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from rnnlab_grader import cells
from rnnlab_grader.sandbox import UID_BASE

CELL_S, WALL_S, SHORT_WALL_S = 10, 240, 30
ASSIGNMENT, NAME = "00_tiny", "tiny"
MAX = 5.0


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=0):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


SETUP = "import math\nfrom rnnlab.checks import check_pair, grading_seed, record"
PAIR = 'your_name = "Ada Lovelace"\nyour_partner_name = "Grace Hopper"'
STUB = '# YOUR CODE HERE\nraise NotImplementedError("Replace these two lines with your code, then run the cell.")'
TEST_PAIR = 'check_pair(globals().get("your_name"), globals().get("your_partner_name"))'
SQUARE = "def square(x):\n    return x * x"
TEST_SQUARE_VISIBLE = 'assert math.isclose(record("square(3)", square(3)), 9), "square(3) should be 9"\n'
TEST_SQUARE_HIDDEN = ("assert math.isclose(record('square(-1.5)', square(-1.5)), 2.25)\n"
                      "assert isinstance(record('square(2)', square(2), same_type=True), int)\n"
                      "fresh = grading_seed(17) % 1000 / 7\nrecord('square(fresh)', square(fresh))\n")
ADD = "def add(a, b):\n    return a + b"
TEST_ADD_VISIBLE = 'assert record("add(2, 3)", add(2, 3)) == 5, "add(2, 3) should be 5"\n'
TEST_ADD_HIDDEN = ("expected = 0.75\nassert record('add(0.5, 0.25)', add(0.5, 0.25)) == expected\n"
                   "record('add(fresh)', add(grading_seed(3) / 11, 2.5))\n")


def hidden(text):
    return f"### BEGIN HIDDEN TESTS\n{text}### END HIDDEN TESTS"


def answer(code: str, instructor: bool) -> str:
    """An answer cell as nbgrader writes it: a function keeps its signature, the body is the region."""
    head, _, body = code.partition("\n") if code.startswith("def ") else ("", "", code)
    indent = "    " if head else ""
    region = body if instructor else "\n".join(indent + line for line in STUB.splitlines())
    if instructor:
        region = f"{indent}### BEGIN SOLUTION\n{body}\n{indent}### END SOLUTION"
    return f"{head}\n{region}" if head else region


def tiny_notebook(instructor: bool) -> nbformat.NotebookNode:
    """The solution (``instructor=True``) or the release version of the tiny assignment."""
    cell, md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        md("# Tiny assignment", metadata=_meta("intro", locked=True)),
        cell(SETUP),
        cell(answer(PAIR, True) if instructor else "# your_name = \"...\"\n" + STUB,
             metadata=_meta("pair_names", solution=True)),
        cell(TEST_PAIR, metadata=_meta("test_pair_names", grade=True, locked=True, points=1)),
        md("Write `square(x)`.", metadata=_meta("task_square", locked=True)),
        cell(answer(SQUARE, instructor), metadata=_meta("square", solution=True)),
        cell(TEST_SQUARE_VISIBLE + (hidden(TEST_SQUARE_HIDDEN) if instructor else ""),
             metadata=_meta("test_square", grade=True, locked=True, points=2)),
        md("Write `add(a, b)`.", metadata=_meta("task_add", locked=True)),
        cell(answer(ADD, instructor), metadata=_meta("add", solution=True)),
        cell(TEST_ADD_VISIBLE + (hidden(TEST_ADD_HIDDEN) if instructor else ""),
             metadata=_meta("test_add", grade=True, locked=True, points=2)),
    ]
    return notebook


def perfect() -> nbformat.NotebookNode:
    notebook = tiny_notebook(instructor=False)
    for cell, code in zip([c for c in notebook.cells if cells.nbgrader_meta(c).get("solution")], [PAIR, SQUARE, ADD]):
        cell.source = code
    return notebook


def blank() -> nbformat.NotebookNode:
    return tiny_notebook(instructor=False)


def with_cell(notebook, source, after="test_pair_names"):
    """``notebook`` with a code cell added after the cell ``after`` (a grade_id, or None for the top)."""
    notebook = copy.deepcopy(notebook)
    position = 0 if after is None else 1 + next(i for i, c in enumerate(notebook.cells)
                                                 if cells.nbgrader_meta(c).get("grade_id") == after)
    notebook.cells.insert(position, nbformat.v4.new_code_cell(source))
    return notebook


def digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def stripped(notebook):
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        cell.metadata = {}
    return notebook


def without(notebook, *grade_ids):
    notebook = copy.deepcopy(notebook)
    notebook.cells = [c for c in notebook.cells if cells.nbgrader_meta(c).get("grade_id") not in grade_ids]
    return notebook


def with_answer(notebook, grade_id, source):
    """``notebook`` with the answer cell ``grade_id`` holding ``source``."""
    notebook = copy.deepcopy(notebook)
    next(c for c in notebook.cells if cells.nbgrader_meta(c).get("grade_id") == grade_id).source = source
    return notebook


def with_names(notebook, name, partner):
    """The pair cell set to these names (None: the tuple form ``your_name, your_partner_name = ...``)."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cells.nbgrader_meta(cell).get("grade_id") == "pair_names":
            cell.source = (f"your_name = {name!r}\nyour_partner_name = {partner!r}" if name is not None
                           else 'your_name, your_partner_name = "Ada Lovelace", "self"')
    return notebook


def duplicated(notebook, grade_id):
    """A cell copied in Jupyter (metadata and all), as students do by accident."""
    notebook = copy.deepcopy(notebook)
    position = next(i for i, c in enumerate(notebook.cells) if cells.nbgrader_meta(c).get("grade_id") == grade_id)
    copied = copy.deepcopy(notebook.cells[position])
    copied.id = f"{copied.id}-copy"  # Jupyter gives the copy a new id and keeps the metadata
    notebook.cells.insert(position + 1, copied)
    return notebook


def processes_of(uids: range) -> list[str]:
    """Names of the live processes whose uid is in ``uids``."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if int(text.split("\nUid:", 1)[1].split()[0]) in uids:
            found.append(text.split("\n", 1)[0])
    return found


SLOT = 100 + os.getpid() % 800  # this test run's sandbox uid, apart from any other grader on the machine


def uid_processes() -> list[str]:
    """Processes of this test run's sandbox uid (the grader runs as root here)."""
    return processes_of(range(UID_BASE + SLOT, UID_BASE + SLOT + 1))


def run_grader(folder: Path, course: Path, out: Path, *extra: str, wall=WALL_S, env=None):
    return subprocess.run([sys.executable, "-m", "rnnlab_grader.cli", str(folder), "--root", str(course),
                           "--out", str(out), "--cell-timeout", str(CELL_S), "--wall", str(wall), "--slot", str(SLOT),
                           "--jobs", "1", *extra],
                          capture_output=True, text=True, timeout=1800, env={**os.environ, **(env or {})})




def make_course(root: Path) -> Path:
    """The tiny course (solutions/, notebooks/ and a stand-in gradebook) under ``root``."""
    for folder, instructor in (("solutions", True), ("notebooks", False)):
        (root / folder / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(tiny_notebook(instructor), root / folder / ASSIGNMENT / f"{NAME}.ipynb")
    (root / "gradebook.db").write_bytes(b"the instructor's gradebook")
    return root
