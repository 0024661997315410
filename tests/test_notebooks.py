"""Every graded notebook, as CI sees it: the solution passes, the student version fails clearly.

Runs in the `grade` profile (set by conftest.py), offline, each notebook in a fresh kernel.
"""
import json

import nbformat
import pytest

from notebook_tools import (
    autograded_outcomes,
    execute,
    is_autograded_test,
    nbgrader_meta,
    protected_lines,
    solution_notebooks,
    source_lines,
    student_version,
)
from rnnlab.claims import Claim
from rnnlab.runtime import KEY_RESULT_FILE

SOLUTIONS = solution_notebooks()
IDS = [p.parent.name for p in SOLUTIONS]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_OUTPUT", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_solution_passes_every_autograded_test_quietly(solution, workdir):
    notebook = execute(solution, workdir)  # its time against the 60 s budget: benchmarks/bench_grading.py
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{solution.name} raised: {errors[0].ename}: {errors[0].evalue}"
    outcomes = autograded_outcomes(notebook)
    assert outcomes, "a graded notebook needs autograded tests"
    for outcome in outcomes:
        assert outcome.error is None, f"{outcome.grade_id}: {outcome.error}"
        assert not outcome.stderr, f"{outcome.grade_id} wrote to stderr (nbgrader would score it 0): {outcome.stderr}"
    key = json.loads((workdir / KEY_RESULT_FILE).read_text())
    # every claim of the prose that depends on the run is checked by the run, with its numbers
    assert key["claims"], "the notebook's prose claims are checked and printed by the run (rnnlab.claims)"
    printed = "\n".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    for claim in key["claims"]:
        assert isinstance(claim["held"], bool) and claim["values"].strip(), claim
        assert Claim(**claim).line() in printed
    if solution.parent.name == "03_rnn_vs_lstm_sweep":  # the length effect shows as the notebook trains the models
        for sweep in ("reviews", "cue_first"):      # (Experiment A on the stand-in, and the cue-first control)
            accuracy = key["values"][sweep]
            shortest, longest = min(accuracy["RNN"], key=int), max(accuracy["RNN"], key=int)
            assert accuracy["RNN"][shortest] > 0.9 and accuracy["RNN"][longest] < 0.65, (sweep, accuracy)
            assert min(accuracy["LSTM"][shortest], accuracy["LSTM"][longest]) > 0.9, (sweep, accuracy)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_student_version_fails_every_autograded_test_with_a_message(solution, workdir):
    notebook = execute(student_version(solution), workdir)
    for outcome in autograded_outcomes(notebook):
        assert outcome.error is not None, f"{outcome.grade_id} passes on the untouched student version"
        name, _, message = outcome.error.partition(": ")
        assert name == "AssertionError" and len(message) > 20, \
            f"{outcome.grade_id} fails without saying what is missing: {outcome.error}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_student_version_holds_no_solution_hidden_test_or_mark_scheme(solution):
    student = nbformat.read(student_version(solution), as_version=4)
    text = "\n".join(cell.source for cell in student.cells)
    leaked = sorted(protected_lines(solution) & source_lines(student_version(solution)))
    assert not leaked, f"solution or hidden-test lines in the student version: {leaked[:5]}"
    for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", "Mark scheme", "MARK SCHEME"):
        assert marker not in text, marker


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_graded_cells_have_unique_ids_and_points(solution):
    cells = nbformat.read(solution, as_version=4).cells
    ids = [nbgrader_meta(c)["grade_id"] for c in cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), "grade_id values must be unique"
    for cell in cells:
        meta = nbgrader_meta(cell)
        if meta:
            assert meta["schema_version"] == 3 and {"grade", "solution", "locked"} <= set(meta)
        if meta.get("grade"):
            assert meta["points"] > 0
    assert any(is_autograded_test(c) and nbgrader_meta(c)["grade_id"] == "test_pair_names" for c in cells), \
        "every notebook has a pair cell with its test"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_notebooks_are_stored_without_outputs(solution):
    for path in (solution, student_version(solution)):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path} has stored outputs"
