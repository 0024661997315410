"""The real notebooks through the real grader: a perfect submission of each scores full marks,
the untouched student version scores 0 with every test named, and a Colab-stripped or
cell-deleted notebook is repaired. One grading run over the committed course (module fixture).

Timeouts: a notebook's cells take at most a few seconds in the grade profile; the cell limit
here is the grader's default (120 s) and the wall limit 600 s, so only a hang can reach them.
"""
import copy
import csv
import subprocess
import sys

import nbformat
import pytest

from notebook_tools import ROOT, nbgrader_meta, solution_notebooks, student_version
from rnnlab_grader.cells import is_test

sys.path.insert(0, str(ROOT / "scripts"))
from release import perfect_submission

ASSIGNMENTS = sorted({p.parent.name for p in solution_notebooks()})
SMALLEST = "01_bptt_by_hand"


def max_points(assignment):
    cells = nbformat.read(next((ROOT / "notebooks" / assignment).glob("*.ipynb")), 4).cells
    return sum(nbgrader_meta(c).get("points", 0) for c in cells
               if is_test(c))


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("round-trip") / "submitted"
    folder.mkdir()
    for solution in solution_notebooks():
        name = solution.parent.name
        nbformat.write(perfect_submission(solution, student_version(solution)), folder / f"{name}-perfect.ipynb")
        (folder / f"{name}-untouched.ipynb").write_bytes(student_version(solution).read_bytes())
    smallest = perfect_submission(*[(s, student_version(s)) for s in solution_notebooks()
                                    if s.parent.name == SMALLEST][0])
    stripped = copy.deepcopy(smallest)
    for cell in stripped.cells:
        cell.metadata = {}
    nbformat.write(stripped, folder / "stripped.ipynb")
    deleted = copy.deepcopy(smallest)
    deleted.cells = [c for c in deleted.cells
                     if nbgrader_meta(c).get("grade_id") not in ("clip_by_global_norm", "test_clip")]
    nbformat.write(deleted, folder / "deleted.ipynb")
    setup_deleted = copy.deepcopy(smallest)
    setup_deleted.cells = [c for c in setup_deleted.cells if nbgrader_meta(c).get("grade_id") != "setup"]
    nbformat.write(setup_deleted, folder / "setup-deleted.ipynb")
    setup_edited = copy.deepcopy(smallest)
    for cell in setup_edited.cells:
        if nbgrader_meta(cell).get("grade_id") == "setup":  # a student trims the setup: T, H, D, OUT undefined
            cell.source = "\n".join(line for line in cell.source.splitlines()
                                     if not line.startswith(("T =", "H =", "D =", "OUT =", "print(")))
    nbformat.write(setup_edited, folder / "setup-edited.ipynb")
    out = folder.parent / "grades.csv"
    done = subprocess.run([sys.executable, "-m", "rnnlab_grader.cli", str(folder), "--root", str(ROOT),
                           "--out", str(out)], capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stdout + done.stderr
    return {r["submission"].removesuffix(".ipynb"): r for r in csv.DictReader(out.open(newline=""))}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_perfect_scores_full_marks_and_untouched_zero(rows, assignment):
    perfect, untouched = rows[f"{assignment}-perfect"], rows[f"{assignment}-untouched"]
    assert float(perfect["total"]) == float(perfect["max_total"]) == max_points(assignment) > 0, perfect
    assert perfect["reason"] == "" and perfect["flagged"] == "", perfect["reason"]
    assert (perfect["your_name"], perfect["your_partner_name"]) == ("Course Instructor", "Teaching Assistant")
    assert float(untouched["total"]) == 0 and untouched["flagged"] == ""
    assert "test_pair_names failed" in untouched["reason"]


def test_stripped_metadata_is_restored(rows):
    assert float(rows["stripped"]["total"]) == max_points(SMALLEST)
    assert "metadata restored" in rows["stripped"]["reason"]


def test_deleted_cells_are_put_back_and_score_zero(rows):
    assert float(rows["deleted"]["total"]) == max_points(SMALLEST) - 2
    assert "deleted cells put back: clip_by_global_norm, test_clip" in rows["deleted"]["reason"]


def test_setup_cells_are_put_back_when_deleted_or_edited(rows):
    """The cells every answer depends on are locked course cells: graded as released, and said so."""
    assert float(rows["setup-deleted"]["total"]) == max_points(SMALLEST), rows["setup-deleted"]["reason"]
    assert "deleted cells put back: setup" in rows["setup-deleted"]["reason"]
    assert float(rows["setup-edited"]["total"]) == max_points(SMALLEST), rows["setup-edited"]["reason"]
    assert "edited course cells run as released: setup" in rows["setup-edited"]["reason"]
