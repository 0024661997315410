"""The files Canvas and Moodle import (``rnnlab_grader.lms``), from typed per-student rows."""
import csv

from rnnlab_grader import lms
from rnnlab_grader.identity import People
from rnnlab_grader.roster import Student
from rnnlab_grader.standing import StudentRow

ADA = Student("s001", "Ada", "Lovelace", "ada@uni.edu", "A", "1001", "SIS1", "alovelace", "M1")
MIA = Student("s002", "Mia", "Wong", "", "B", "", "", "", "")  # no id Canvas knows, no email
EVE = Student("s003", "=Eve", "Hacker", "eve@uni.edu", "B", "1003", "", "", "")


def row(student, auto, written=None):
    return StudentRow(student, student.name, auto, written or {}, 0.0, 12.0, False, (), ())


def test_canvas_rows_have_the_points_possible_and_blank_cells_for_nothing_counted(tmp_path):
    rows = [row(ADA, {"nb1": 4.0, "nb2": None}, {"nb1": 2.5}), row(MIA, {"nb1": 3.0}), row(EVE, {"nb1": None})]
    out = lms.write_canvas(tmp_path / "canvas.csv", rows, People([ADA, MIA, EVE]), ["nb1", "nb2"],
                           {"nb1": 11.0, "nb2": 7.0})
    lines = list(csv.reader((tmp_path / "canvas.csv").open(newline="")))
    assert lines[:2] == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "nb1", "nb2"],
                         ["Points Possible", "", "", "", "", "11", "7"]]
    assert lines[2] == ["Lovelace, Ada", "1001", "SIS1", "alovelace", "A", "6.5", ""]
    assert lines[3] == ["Hacker, =Eve", "1003", "", "", "B", "", ""]  # "Hacker, ..." is not a formula
    assert (out.rows, out.left_out) == (2, ["Mia Wong"])


def test_moodle_files_hold_only_students_with_points_and_an_email(tmp_path):
    rows = [row(ADA, {"nb1": 4.0, "nb2": None}), row(MIA, {"nb1": 3.0}), row(EVE, {"nb1": 1.0, "nb2": 2.0})]
    nb1, nb2 = lms.write_moodle(tmp_path / "moodle.csv", rows, People([ADA, MIA, EVE]), ["nb1", "nb2"])
    assert nb1.path.name == "moodle-nb1.csv" and (nb1.rows, nb1.left_out) == (2, ["Mia Wong"])
    lines = list(csv.reader(nb2.path.open(newline="")))
    assert lines == [["First name", "Last name", "ID number", "Email address", "nb2"],
                     ["'=Eve", "Hacker", "", "eve@uni.edu", "2"]]


def test_canvas_columns_carry_the_assignment_ids_and_each_notebook_has_a_file(tmp_path):
    toml = tmp_path / "course.toml"
    toml.write_text('[student_repository]\nurl = "x"\n\n[canvas.assignment_ids]\nnb1 = 123456\n')
    ids = lms.canvas_ids(toml)
    assert ids == {"nb1": "123456"} and lms.canvas_ids(tmp_path / "missing.toml") == {}
    rows = [row(ADA, {"nb1": 4.0, "nb2": 3.0})]
    whole, nb1, nb2 = lms.write_canvas_each(tmp_path / "canvas.csv", rows, People([ADA]), ["nb1", "nb2"],
                                            {"nb1": 5.0, "nb2": 7.0}, ids)
    heads = [next(csv.reader(out.path.open(newline=""))) for out in (whole, nb1, nb2)]
    assert [out.path.name for out in (whole, nb1, nb2)] == ["canvas.csv", "canvas-nb1.csv", "canvas-nb2.csv"]
    assert heads[0][5:] == ["nb1 (123456)", "nb2"] and heads[1][5:] == ["nb1 (123456)"] and heads[2][5:] == ["nb2"]
    toml.write_text("[canvas.assignment_ids]\nnb1 = \"https://canvas.example/courses/1/assignments/9\"\n")
    try:
        lms.canvas_ids(toml)
        raise AssertionError("an address is not an id")
    except lms.CourseSettingsError as error:
        assert "the number at the end" in str(error)
