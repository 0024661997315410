"""Where files are graded (``rnnlab_grader.workers``): results reach the store as files finish, and a
grader error on one file costs that file's result only (the Dask cases are in ``test_grading.py``)."""
import csv

from rnnlab_grader import pipeline, tables, workers
from rnnlab_grader.results import FileResult, Reason, ReasonKind
from rnnlab_grader.sandbox import Sandbox
from rnnlab_grader.store import Store
from tiny_course import ASSIGNMENT, SLOT


def test_a_grader_error_on_one_file_costs_only_its_row(tmp_path, monkeypatch):
    """grade_all: an exception of the grader itself on one file is that file's row, with a reason."""
    def fake_grade_one(path, name, releases, references, sandbox, threads=None):
        if name == "bad.ipynb":
            raise RuntimeError("boom")
        return FileResult(name, "", ASSIGNMENT, "A", "self", points=5.0, max_points=5.0, finished=True)

    monkeypatch.setattr(pipeline, "grade_one", fake_grade_one)
    store = Store(tmp_path / "results")
    todo = [(tmp_path / n, n) for n in ("b.ipynb", "bad.ipynb", "a.ipynb")]
    local = workers.LocalWorkers([], {}, Sandbox([], slot=SLOT), jobs=2, threads=1)
    assert len(workers.grade_all(todo, local, store)) == 3
    local.close()
    tables.write_by_file(tmp_path / "grades.csv", store.all(), [ASSIGNMENT])
    rows = list(csv.DictReader((tmp_path / "grades.csv").open(newline="")))
    assert [r["submission"] for r in rows] == ["a.ipynb", "b.ipynb", "bad.ipynb"]
    assert [r["total"] for r in rows] == ["5", "5", "0"]
    assert "the grader failed on this file (RuntimeError)" in rows[2]["reason"]


def test_the_progress_line_is_one_line_of_plain_text():
    result = FileResult("a\x1b[31m.ipynb", points=3.0, max_points=5.0,
                        reasons=(Reason(ReasonKind.CELL, "test_x failed\n"),))
    assert workers.progress_line(result, 2.4) == "  a [31m.ipynb: 3/5 in 2 s  (test_x failed)"
