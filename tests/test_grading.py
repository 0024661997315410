"""`make grade` on hostile submissions: every file gets a row, none stops the others, and
nothing a submission does reaches the gradebook or the release.

One grading run over a scratch copy of the course (module fixture); the tests read its CSV.
"""
import copy
import csv
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from notebook_tools import ROOT, nbgrader_meta, solution_notebooks, student_version

sys.path.insert(0, str(ROOT / "scripts"))
from release import perfect_submission, scratch_course  # noqa: E402
from restore_metadata import restore  # noqa: E402

ASSIGNMENT = "01_bptt_by_hand"
CELL_TIMEOUT_S = 8


def filled_in(solution: Path) -> nbformat.NotebookNode:
    return perfect_submission(solution, student_version(solution))


def with_extra_cell(notebook, source, after=6):
    notebook = copy.deepcopy(notebook)
    notebook.cells.insert(after, nbformat.v4.new_code_cell(source))
    return notebook


def digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = scratch_course(ROOT, tmp_path_factory.mktemp("grading") / "course")
    protected_before = {"gradebook": digest_file(course / "gradebook.db"), "notebooks": digest(course / "notebooks")}

    submissions = course.parent / "submissions"
    submissions.mkdir()
    for solution in solution_notebooks():
        name = solution.parent.name
        nbformat.write(filled_in(solution), submissions / f"{name}-perfect.ipynb")
        shutil.copy(student_version(solution), submissions / f"{name}-untouched.ipynb")
    perfect = filled_in(ROOT / "solutions" / ASSIGNMENT / "bptt_by_hand.ipynb")
    stripped = copy.deepcopy(perfect)
    for cell in stripped.cells:
        cell.metadata = {}
    nbformat.write(stripped, submissions / "stripped.ipynb")
    deleted = copy.deepcopy(perfect)
    deleted.cells = [c for c in deleted.cells
                     if nbgrader_meta(c).get("grade_id") not in ("clip_by_global_norm", "test_clip")]
    nbformat.write(deleted, submissions / "deleted.ipynb")
    (submissions / "invalid.ipynb").write_text('{"cells": [ this is not json')
    nbformat.write(with_extra_cell(perfect, "while True:\n    pass"), submissions / "endless.ipynb")
    nbformat.write(with_extra_cell(perfect, "hog = bytearray(64 * 2**30)"), submissions / "memory.ipynb")
    nbformat.write(with_extra_cell(perfect, "import os\nos._exit(3)"), submissions / "crash.ipynb")
    escape = (f"from pathlib import Path\n"
              f"Path({str(course / 'gradebook.db')!r}).write_bytes(b'gone')\n")
    nbformat.write(with_extra_cell(perfect, escape), submissions / "escape.ipynb")
    escape_release = (f"from pathlib import Path\n"
                      f"for p in Path({str(course / 'notebooks')!r}).rglob('*.ipynb'):\n"
                      f"    p.write_text('defaced')\n")
    nbformat.write(with_extra_cell(perfect, escape_release), submissions / "escape-release.ipynb")

    out = course.parent / "grades.csv"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "grade.py"), str(submissions), "--root", str(course),
                           "--out", str(out), "--cell-timeout", str(CELL_TIMEOUT_S), "--wall", "240"],
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {Path(r["submission"]).name: r for r in csv.DictReader(out.open())}
    protected_after = {"gradebook": digest_file(course / "gradebook.db"), "notebooks": digest(course / "notebooks")}
    return rows, protected_before, protected_after, done.stdout


def digest_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def max_points(assignment):
    cells = nbformat.read(next((ROOT / "notebooks" / assignment).glob("*.ipynb")), 4).cells
    return sum(nbgrader_meta(c).get("points", 0) for c in cells
               if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution"))


def points(row):
    return float(row["total"])


@pytest.mark.parametrize("assignment", sorted({p.parent.name for p in solution_notebooks()}))
def test_round_trip_full_marks_and_zero(graded, assignment):
    rows = graded[0]
    perfect, untouched = rows[f"{assignment}-perfect.ipynb"], rows[f"{assignment}-untouched.ipynb"]
    assert points(perfect) == float(perfect["max_total"]) == max_points(assignment) > 0, perfect
    assert perfect["reason"] == ""
    assert (perfect["your_name"], perfect["your_partner_name"]) == ("Course Instructor", "Teaching Assistant")
    assert points(untouched) == 0
    assert "test_pair_names failed" in untouched["reason"]


def test_every_submission_has_a_row(graded):
    rows = graded[0]
    assert {"stripped.ipynb", "deleted.ipynb", "invalid.ipynb", "endless.ipynb", "memory.ipynb", "crash.ipynb",
            "escape.ipynb", "escape-release.ipynb"} <= set(rows)


def test_stripped_metadata_is_restored(graded):
    row = graded[0]["stripped.ipynb"]
    assert points(row) == max_points(ASSIGNMENT) and "metadata restored" in row["reason"]


def test_deleted_cells_are_put_back_and_score_zero(graded):
    row = graded[0]["deleted.ipynb"]
    assert points(row) == max_points(ASSIGNMENT) - 2
    assert "deleted cells put back: clip_by_global_norm, test_clip" in row["reason"]


def test_invalid_json(graded):
    row = graded[0]["invalid.ipynb"]
    assert points(row) == 0 and "not a readable notebook" in row["reason"]


def test_endless_loop_is_cut_and_the_rest_graded(graded):
    row = graded[0]["endless.ipynb"]
    assert f"ran longer than {CELL_TIMEOUT_S} s" in row["reason"]
    assert points(row) == max_points(ASSIGNMENT)


def test_memory_hog_fails_inside_the_kernel(graded):
    row = graded[0]["memory.ipynb"]
    assert "MemoryError" in row["reason"] and points(row) == max_points(ASSIGNMENT)


def test_crash_scores_zero_with_a_reason(graded):
    row = graded[0]["crash.ipynb"]
    assert points(row) == 0 and "kernel died" in row["reason"]


def test_writes_outside_the_scratch_folder_fail(graded):
    rows, before, after, stdout = graded
    assert "sandbox (no network, read-only course and home) on" in stdout
    assert "Read-only file system" in rows["escape.ipynb"]["reason"]
    assert "Read-only file system" in rows["escape-release.ipynb"]["reason"]
    assert before == after, "a submission changed the gradebook or the release"


def test_restore_is_idempotent_on_an_intact_submission():
    perfect = filled_in(ROOT / "solutions" / ASSIGNMENT / "bptt_by_hand.ipynb")
    restoration = restore(perfect, nbformat.read(student_version(ROOT / "solutions" / ASSIGNMENT /
                                                                 "bptt_by_hand.ipynb"), 4))
    assert restoration.summary() == ""
    assert [c.source for c in restoration.notebook.cells] == [c.source for c in perfect.cells]


def test_restore_survives_reordered_and_added_cells():
    solution = ROOT / "solutions" / ASSIGNMENT / "bptt_by_hand.ipynb"
    release = nbformat.read(student_version(solution), 4)
    messy = filled_in(solution)
    for cell in messy.cells:
        cell.metadata = {}
    messy.cells.insert(10, nbformat.v4.new_code_cell("print('my own scratch work')"))
    messy.cells.insert(3, nbformat.v4.new_markdown_cell("notes to self"))
    restored = restore(messy, release)
    ids = [nbgrader_meta(c).get("grade_id") for c in restored.notebook.cells if nbgrader_meta(c)]
    expected = [nbgrader_meta(c)["grade_id"] for c in release.cells if nbgrader_meta(c)]
    assert ids == expected and restored.reinserted == []
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in filled_in(solution).cells if nbgrader_meta(c)}
    for cell in restored.notebook.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid and nbgrader_meta(cell).get("solution"):
            assert cell.source == answers[gid], f"{gid} was matched to the wrong cell"


def test_a_terse_pair_cell_without_metadata_still_counts():
    solution = ROOT / "solutions" / ASSIGNMENT / "bptt_by_hand.ipynb"
    release = nbformat.read(student_version(solution), 4)
    terse = filled_in(solution)
    for cell in terse.cells:
        if nbgrader_meta(cell).get("grade_id") == "pair_names":
            cell.source = 'your_name = "Ada"\nyour_partner_name = "self"'
        cell.metadata = {}
    restored = restore(terse, release).notebook
    pair = [c for c in restored.cells if nbgrader_meta(c).get("grade_id") == "pair_names"]
    assert len(pair) == 1 and pair[0].source.startswith('your_name = "Ada"')
    from grade import pair_names

    assert pair_names(restored) == ("Ada", "self")
