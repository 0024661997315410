"""Fair scores, through the real autograder (``rnnlab-grade``, sandboxed):

* correct answers in other common styles (``fair_variants.VARIANTS``) keep full marks: one
  notebook per assignment and style, every answer in that style;
* a missing answer costs only its own points: one notebook per graded TODO with that answer
  left as the release's stub and every other answer correct; it scores the maximum minus the
  points of the tests that need it (its own, and the dependants ``DEPENDANTS`` names, which the
  notebooks' TODO text states).

``python tests/test_fair_scores.py`` prints the per-TODO table (one notebook per TODO and
variant, the others correct) that the closing note of the fair-scores issue quotes.
"""
from __future__ import annotations

import csv
import functools
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from fair_variants import HONEST, MUTANTS, PRECISION, TIMEIT_LINE, VARIANTS
from notebook_tools import ROOT, nbgrader_meta, solution_notebooks, student_version
from rnnlab_grader.cells import is_test

sys.path.insert(0, str(ROOT / "scripts"))
from release import perfect_submission

pytestmark = pytest.mark.slow

# Tests that need another TODO's answer as well as their own (stated in the TODO text).
DEPENDANTS = {
    "01_bptt_by_hand": {
        "rnn_forward": ["test_rnn_backward", "test_artifacts"],
        "rnn_backward": ["test_artifacts"],
        "gru_forward": ["test_gru_backward", "test_artifacts"],
        "gru_backward": ["test_artifacts"],
        "measures": ["test_artifacts"],
    },
}


def _solution(assignment: str) -> Path:
    return next(p for p in solution_notebooks() if p.parent.name == assignment)


@functools.cache
def _release_cells(assignment: str) -> tuple:
    """The cells of the student version (read once per assignment)."""
    return tuple(nbformat.read(student_version(_solution(assignment)), 4).cells)


def answer_ids(assignment: str) -> list[str]:
    """grade_ids of the code answer cells (the graded TODOs) of an assignment."""
    return [nbgrader_meta(c)["grade_id"] for c in nbformat.read(_solution(assignment), 4).cells
            if c.cell_type == "code" and nbgrader_meta(c).get("solution")]


def points_of_tests(assignment: str) -> dict[str, float]:
    """grade_id of each autograded test -> its points."""
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"])
            for c in _release_cells(assignment)
            if is_test(c)}


def submission(assignment: str, replace: dict[str, str]) -> nbformat.NotebookNode:
    """The perfect submission with the answer cells in ``replace`` (grade_id -> source) swapped."""
    solution = _solution(assignment)
    notebook = perfect_submission(solution, student_version(solution))
    for cell in notebook.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in replace:
            cell.source = replace[grade_id]
    return notebook


def honest(assignment: str, replace: dict, added: list) -> nbformat.NotebookNode:
    """The perfect submission with ``replace`` swapped in (None: the solution's answer followed by
    ``TIMEIT_LINE``) and each ``(grade_id, source)`` of ``added`` as a new code cell after that cell."""
    notebook = submission(assignment, {k: v for k, v in replace.items() if v is not None})
    for cell in notebook.cells:
        if replace.get(nbgrader_meta(cell).get("grade_id"), "") is None:
            cell.source = cell.source.rstrip() + "\n" + TIMEIT_LINE
    for after, source in reversed(added):
        position = next(i for i, c in enumerate(notebook.cells) if nbgrader_meta(c).get("grade_id") == after)
        notebook.cells.insert(position + 1, nbformat.v4.new_code_cell(source))
    return notebook


def mutant(assignment: str, grade_id: str, *changes: tuple[str, str]) -> nbformat.NotebookNode:
    """The perfect submission with each ``(old, new)`` of ``changes`` made in the solution's answer ``grade_id``."""
    notebook = submission(assignment, {})
    cell = next(c for c in notebook.cells if nbgrader_meta(c).get("grade_id") == grade_id)
    for old, new in changes:
        assert old in cell.source, f"{grade_id}: {old!r} is no longer in the solution"
        cell.source = cell.source.replace(old, new)
    return notebook


def stub(assignment: str, grade_id: str) -> str:
    """The release's source of an answer cell (the stub a student starts from)."""
    return next(c.source for c in _release_cells(assignment) if nbgrader_meta(c).get("grade_id") == grade_id)


def own_test(grade_id: str) -> str:
    return {"clip_by_global_norm": "test_clip"}.get(grade_id, f"test_{grade_id}")


def expected_after_stub(assignment: str, grade_id: str) -> float:
    """The maximum minus the points of the answer's own test and of the tests that need it."""
    points = points_of_tests(assignment)
    lost = {own_test(grade_id), *DEPENDANTS.get(assignment, {}).get(grade_id, [])}
    return sum(points.values()) - sum(points[t] for t in lost)


def grade(notebooks: dict[str, nbformat.NotebookNode], folder: Path) -> dict[str, dict]:
    """Grade every notebook with the real CLI (its default ``--jobs``: one sandbox per core, the
    cores' threads shared between them)."""
    submitted = folder / "submitted"
    submitted.mkdir(parents=True)
    for name, notebook in notebooks.items():
        nbformat.write(notebook, submitted / f"{name}.ipynb")
    out = folder / "grades.csv"
    done = subprocess.run([sys.executable, "-m", "rnnlab_grader.cli", str(submitted), "--root", str(ROOT),
                           "--out", str(out), "--slot", str(300 + 10 * (os.getpid() % 50))],
                          capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stdout + done.stderr
    return {r["submission"].removesuffix(".ipynb"): r for r in csv.DictReader(out.open(newline=""))}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    notebooks = {}
    for assignment, todos in VARIANTS.items():
        assert set(todos) == set(answer_ids(assignment)), f"{assignment}: variants for every graded TODO"
        for style in range(2):
            notebooks[f"{assignment}-style{style}"] = submission(
                assignment, {grade_id: sources[style] for grade_id, sources in todos.items()})
        for grade_id in todos:
            notebooks[f"{assignment}-stub-{grade_id}"] = submission(assignment, {grade_id: stub(assignment, grade_id)})
    for name, (assignment, replace, added) in HONEST.items():
        notebooks[f"honest-{name}"] = honest(assignment, replace, added)
    for name, (assignment, grade_id, old, new) in MUTANTS.items():
        notebooks[f"mutant-{name}"] = mutant(assignment, grade_id, (old, new))
    for grade_id, (assignment, float32, wrong) in PRECISION.items():
        notebooks[f"float32-{grade_id}"] = mutant(assignment, grade_id, *float32)
        notebooks[f"float32-wrong-{grade_id}"] = mutant(assignment, grade_id, *float32, wrong)
    return grade(notebooks, tmp_path_factory.mktemp("fair"))


@pytest.mark.parametrize("assignment", sorted(VARIANTS))
@pytest.mark.parametrize("style", [0, 1])
def test_correct_answers_in_other_styles_score_full_marks(graded, assignment, style):
    row = graded[f"{assignment}-style{style}"]
    assert float(row["total"]) == float(row["max_total"]) == sum(points_of_tests(assignment).values()), row["reason"]
    assert row["flagged"] == "", row["reason"]


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_notebooks_in_the_shapes_students_write_keep_full_marks(graded, name):
    """Large figures left open, a loop variable named like a later import, a magic in an answer
    cell, a float32 start state, an evaluate that restores the caller's mode (#30)."""
    row = graded[f"honest-{name}"]
    expected = sum(points_of_tests(HONEST[name][0]).values())
    assert float(row["total"]) == float(row["max_total"]) == expected, row["reason"]
    assert row["flagged"] == "", row["reason"]


@pytest.mark.parametrize("grade_id", sorted(PRECISION))
def test_a_correct_float32_answer_keeps_full_marks_and_a_wrong_one_fails(graded, grade_id):
    """The precision matrix (#33): the solution is the float64 answer (``test_correct_answers...``)."""
    assignment = PRECISION[grade_id][0]
    points = points_of_tests(assignment)
    right, wrong = graded[f"float32-{grade_id}"], graded[f"float32-wrong-{grade_id}"]
    assert float(right["total"]) == sum(points.values()), right["reason"]
    assert float(wrong["total"]) == sum(points.values()) - points[own_test(grade_id)], wrong["reason"]


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_wrong_answer_in_a_case_the_todo_names_loses_its_points(graded, name):
    """Several recurrent matrices, mixed lengths, several batches, an empty review, every gradient (#34)."""
    assignment, grade_id = MUTANTS[name][:2]
    row = graded[f"mutant-{name}"]
    points = points_of_tests(assignment)
    assert float(row["total"]) == sum(points.values()) - points[own_test(grade_id)], row["reason"]


@pytest.mark.parametrize("assignment,grade_id", [(a, g) for a in sorted(VARIANTS) for g in VARIANTS[a]])
def test_a_missing_answer_costs_only_its_own_points(graded, assignment, grade_id):
    row = graded[f"{assignment}-stub-{grade_id}"]
    assert float(row["total"]) == expected_after_stub(assignment, grade_id), row["reason"]


def per_todo_table(folder: Path) -> None:
    """Each variant alone (the other answers correct) and each stub: points, for the closing note."""
    notebooks = {}
    for assignment, todos in VARIANTS.items():
        for grade_id, sources in todos.items():
            for style, source in enumerate(sources):
                notebooks[f"{assignment}-{grade_id}-v{style}"] = submission(assignment, {grade_id: source})
            notebooks[f"{assignment}-{grade_id}-stub"] = submission(assignment, {grade_id: stub(assignment, grade_id)})
    rows = grade(notebooks, folder)
    print("| notebook | TODO | variant 1 | variant 2 | stub (expected) |")
    print("| --- | --- | --- | --- | --- |")
    for assignment, todos in VARIANTS.items():
        for grade_id in todos:
            cells = [f"{float(rows[f'{assignment}-{grade_id}-v{s}']['total']):g}" for s in range(2)]
            stubbed = float(rows[f"{assignment}-{grade_id}-stub"]["total"])
            maximum = rows[f"{assignment}-{grade_id}-v0"]["max_total"]
            print(f"| {assignment[:2]} | {grade_id} | {cells[0]}/{maximum} | {cells[1]}/{maximum} | "
                  f"{stubbed:g} ({expected_after_stub(assignment, grade_id):g}) |")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        per_todo_table(Path(tmp))
