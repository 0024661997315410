"""The tables (``rnnlab_grader.tables``): the one place results become CSV text."""
import csv

from rnnlab_grader import tables
from rnnlab_grader.roster import Student
from rnnlab_grader.standing import StudentRow
from test_results import example

AWKWARD = ["a  b.ipynb", "-draft.ipynb", "d" * 150 + "/" + "e" * 143 + ".ipynb"]


def test_safe_text():
    assert tables.safe_text("=1+1", 80) == "'=1+1"
    assert tables.safe_text("-2", 80) == "'-2" and tables.safe_text("\uff1dSUM(A1)", 80).startswith("'")
    assert tables.safe_text("a\nb\tc\x00d", 80) == "a b c d"
    assert tables.safe_text("x" * 100, 10) == "x" * 9 + "…"


def test_a_by_file_row_keeps_the_columns_and_escapes_every_text():
    row = tables.by_file_row(example(), ["00_other", "01_bptt_by_hand"])
    assert list(row) == tables.by_file_fields(["00_other", "01_bptt_by_hand"])
    assert row["submission"] == "Ada Lovelace_4411_assignsubmission_file_/a b .ipynb"  # bidi and double space gone
    assert (row["your_name"], row["your_partner_name"]) == ("'=Ada", "'-Grace")
    assert (row["01_bptt_by_hand"], row["00_other"], row["total"], row["max_total"]) == ("2", "", "2", "6")
    assert row["flagged"] == "FLAGGED" and row["reason"].startswith("FLAGGED for review: frame-access; restored")
    assert row["tests"] == ("test_a=pass test_b=fail:ValueMismatch:4:grads[W_hh] test_c=crash")
    assert row["unwritten"] == "gru_backward" and row["similar_to"] == ""


def test_awkward_names_are_rows_of_their_own(tmp_path):
    results = [example(path=name) for name in AWKWARD]
    tables.write_by_file(tmp_path / "by-file.csv", results, ["01_bptt_by_hand"])
    rows = list(csv.DictReader((tmp_path / "by-file.csv").open(newline="")))
    assert [r["submission"] for r in rows] == ["a b.ipynb", "'-draft.ipynb", AWKWARD[2][:199] + "…"]


def test_student_rows_and_lms_cells_are_text_only_at_the_edge(tmp_path):
    ada = Student("s001", "=Ada", "Lovelace")
    row = StudentRow(ada, ada.name, {"nb1": 4.0, "nb2": None}, {"nb1": 2.5, "nb2": None}, 6.5, 12.0, True,
                     ("nb1: a note",), ("a.ipynb",))
    cells = tables.student_row(row, ["nb1", "nb2"])
    assert cells == {"student": "'=Ada Lovelace", "id": "s001", "nb1": "4", "nb1_written": "2.5", "nb2": "",
                     "nb2_written": "", "total": "6.5", "max_total": "12", "flagged": "FLAGGED",
                     "reason": "nb1: a note", "files": "a.ipynb"}
    assert row.points("nb1") == 6.5 and row.points("nb2") is None
    tables.write_lms(tmp_path / "lms.csv", ["name", "points"], [["@cmd", 6.5], ["x", None]])
    assert list(csv.reader((tmp_path / "lms.csv").open(newline=""))) == [["name", "points"], ["'@cmd", "6.5"],
                                                                          ["x", ""]]
