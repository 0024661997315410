"""The class list read from the course's CSV, Canvas's gradebook export, Moodle's grade export and
Moodle's grading worksheet (``rnnlab_grader.roster``), and Moodle's participant numbers telling
two students of one name apart (``identity.People``)."""
import pytest

from rnnlab_grader import identity, roster

# Canvas: Grades > Export (the layout of its own CSV, with the Points Possible row and the test student)
CANVAS_EXPORT = """Student,ID,SIS User ID,SIS Login ID,Section,01_bptt_by_hand (123456)
    Points Possible,,,,,31
"Müller, José",2001,SIS1,jmuller,A,
"Smith, John",2002,SIS2,jsmith1,A,12
"Smith, John",2003,,,B,
"Student, Test",2999,,,A,
"""
# Moodle: Grades > Export > Plain text file
MOODLE_EXPORT = """First name,Last name,ID number,Institution,Department,Email address,Assignment: 02 (Real)
José,Müller,,Uni,CS,jose@uni.edu,-
John,Smith,,Uni,CS,john.smith1@uni.edu,-
John,Smith,M77,Uni,CS,john.smith2@uni.edu,-
"""
# Moodle: the assignment's "Download grading worksheet"
WORKSHEET = """Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed
Participant 4411,John Smith,john.smith1@uni.edu,Submitted for grading,,14.00,Yes
Participant 4412,John Smith,JOHN.SMITH2@uni.edu,Submitted for grading,,14.00,Yes
Participant 4413,Nobody Here,nobody@uni.edu,No submission,,14.00,Yes
"""


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_canvas_gradebook_export_is_a_roster(tmp_path):
    students = roster.read_roster(write(tmp_path, "canvas.csv", CANVAS_EXPORT))
    assert [(s.id, s.first_name, s.last_name, s.canvas_id, s.section) for s in students] == [
        ("jmuller", "José", "Müller", "2001", "A"), ("jsmith1", "John", "Smith", "2002", "A"),
        ("canvas-2003", "John", "Smith", "2003", "B")]  # no SIS ids: Canvas's own id; no test student


def test_moodle_grade_export_is_a_roster(tmp_path):
    students = roster.read_roster(write(tmp_path, "moodle.csv", MOODLE_EXPORT, "cp1252"))
    assert [(s.id, s.name, s.email) for s in students] == [
        ("jose@uni.edu", "José Müller", "jose@uni.edu"), ("john.smith1@uni.edu", "John Smith", "john.smith1@uni.edu"),
        ("M77", "John Smith", "john.smith2@uni.edu")]


def test_moodle_worksheet_is_a_roster_with_participant_numbers(tmp_path):
    students = roster.read_roster(write(tmp_path, "sheet.csv", WORKSHEET.replace(",", ";")))
    assert [(s.id, s.last_name, s.moodle_participants) for s in students][:2] == [
        ("john.smith1@uni.edu", "Smith", ("4411",)), ("JOHN.SMITH2@uni.edu", "Smith", ("4412",))]


def test_worksheets_tell_apart_two_students_of_one_name(tmp_path):
    course = write(tmp_path, "roster.csv", "id,first_name,last_name,email\ns005,John,Smith,john.smith1@uni.edu\n"
                                           "s006,John,Smith,john.smith2@uni.edu\ns007,José,Müller,jose@uni.edu\n")
    plain = identity.People(roster.read_roster(course))
    folder = "John Smith_4412_assignsubmission_file/02_imdb_gradient_probe.ipynb"
    unknown = plain.from_file_name(folder)
    assert unknown.student is None and "WORKSHEETS" in unknown.problem and "s005, s006" in unknown.problem
    students, unmatched = roster.add_worksheets(roster.read_roster(course), [write(tmp_path, "w.csv", WORKSHEET)])
    people = identity.People(students)
    assert people.from_file_name(folder).student.id == "s006"                       # email, case-blind
    assert people.from_file_name("John Smith_4411_assignsubmission_file_/x.ipynb").student.id == "s005"
    assert people.from_file_name("José Müller_5000_assignsubmission_file/x.ipynb").student.id == "s007"  # by name
    assert unmatched == ["Nobody Here (Participant 4413)"]


@pytest.mark.parametrize("text, message", [
    ("id,first_name\ns1,Ada\n", "no last_name column"),
    ("Name;Mail\nAda;a@b\n", "delimiter ';'"),
    ("Student,ID\n\"Lovelace, Ada\",1\n\"Hopper, Grace\",1\n", "is also on line 2"),
])
def test_an_unusable_roster_says_what_to_fix(tmp_path, text, message):
    with pytest.raises(roster.RosterError, match=message):
        roster.read_roster(write(tmp_path, "r.csv", text))
