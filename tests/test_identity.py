"""Who is credited: a roster, typed names matched to it, LMS file names, ids that cannot collide,
pairs that both sides confirm, and the grade files Canvas and Moodle import (no sandbox needed)."""
import csv
import hashlib
import itertools
import re

import pytest

from rnnlab_grader import credits, identity, lms, standing, tables
from rnnlab_grader import roster as roster_module
from rnnlab_grader.gradebook import HandScore, WrittenGrade
from rnnlab_grader.results import FileResult

ROSTER = """id,first_name,last_name,email,section,canvas_id,sis_user_id,sis_login_id,moodle_id,partner
s001,Ada,Lovelace,ada.lovelace@uni.edu,A,1001,SIS1,alovelace,M001,s002
s002,Grace,Hopper,grace.hopper@uni.edu,A,1002,SIS2,ghopper,M002,s001
s003,José,Núñez,jose.nunez@uni.edu,B,1003,SIS3,jnunez,M003,
s004,Alan,Turing,alan.turing@uni.edu,B,1004,SIS4,aturing,M004,
s005,John,Smith,john.smith1@uni.edu,B,,,,,
s006,John,Smith,john.smith2@uni.edu,B,,,,,
s007,Mia,Wong,,B,,,,,
"""


@pytest.fixture()
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return identity.People(roster_module.read_roster(path))


def record(submission, name, partner, total="5", assignment="nb1", **extra):
    return FileResult(submission, your_name=name, your_partner_name=partner, assignment=assignment,
                      points=float(total), **extra)


def student_rows(table, assignments, *args):
    """The per-student table's rows as text, as ``tables`` writes them."""
    return [tables.student_row(r, assignments) for r in standing.student_rows(table, assignments, *args)]


@pytest.mark.parametrize("typed, expected", [
    ("Ada Lovelace", "s001"), ("ada  LOVELACE ", "s001"), ("Lovelace, Ada", "s001"), ("Lovelace Ada", "s001"),
    ("Jose Nunez", "s003"), ("josé núñez", "s003"), ("Grace Hoper", "s002"), ("Alan Turnig", "s004"),
    ("ada.lovelace@uni.edu", "s001"), ("aturing", "s004"), ("s003", "s003"),
])
def test_typed_names_match_the_roster(roster, typed, expected):
    match = roster.match(typed)
    assert match.student is not None and match.student.id == expected, match.problem


@pytest.mark.parametrize("typed, problem", [
    ("John Smith", "matches 2 students"), ("Nobody Known", "not on the roster"), ("", "no name written"),
    ("Ada", "not on the roster"),
])
def test_unmatched_and_ambiguous_names_are_never_credited(roster, typed, problem):
    match = roster.match(typed)
    assert match.student is None and problem in match.problem


def test_lms_file_names_identify_the_submitter(roster):
    canvas = roster.from_file_name("lovelaceada_1001_88812_01_bptt_by_hand.ipynb")
    late = roster.from_file_name("turingalan_LATE_1004_88813_01_bptt_by_hand-1.ipynb")
    moodle = roster.from_file_name("Grace Hopper_4411_assignsubmission_file_/01_bptt_by_hand.ipynb")
    unknown = roster.from_file_name("someone_9999_1_x.ipynb")
    assert (canvas.student.id, late.student.id, moodle.student.id) == ("s001", "s004", "s002")
    assert unknown.student is None and "9999" in unknown.problem
    assert roster.from_file_name("ada.ipynb") is None and identity.People(None).from_file_name(
        "lovelaceada_1001_88812_x.ipynb") is None


def test_the_lms_submitter_wins_over_a_typed_name(roster):
    """Mallory (Alan's Canvas upload) types Ada's name: credited to Alan, and flagged."""
    claim = identity.authorship(record("turingalan_1004_5_nb.ipynb", "Ada Lovelace", "self"), roster)
    assert claim.submitter == "s004" and "credited to the LMS's submitter" in claim.notes[0]


def test_partners_handing_in_one_shared_notebook_confirm_through_the_lms(roster):
    """Both Canvas uploads hold the same pair cell (Ada first): each submitter is named, so the pair
    is confirmed; a Canvas upload by someone the pair cell does not name is credited to them alone."""
    records = [record("lovelaceada_1001_1_nb.ipynb", "Ada Lovelace", "Alan Turing", "4"),
               record("turingalan_1004_2_nb.ipynb", "Ada Lovelace", "Alan Turing", "4"),
               record("nunezjose_1003_3_nb.ipynb", "Ada Lovelace", "Alan Turing", "5")]
    table = credits.credit(records, ["nb1"], roster)
    assert table.by_student[("s004", "nb1")].partners == ("s001",)
    jose = table.by_student[("s003", "nb1")]
    assert jose.partners == () and jose.flagged and "whom the pair cell does not name" in jose.notes[0]
    assert table.by_student[("s001", "nb1")].result.path == "lovelaceada_1001_1_nb.ipynb"


def old_folder_name(student):
    """The scheme before identities: a slug of the typed name plus 8 hex digits of its hash."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", student).strip("_")[:60] or "student"
    return f"{slug}-{hashlib.sha256(' '.join(student.split()).casefold().encode()).hexdigest()[:8]}"


def find_old_collision():
    """Two different names (the victim's plus punctuation) with one folder in the old scheme:
    a birthday search over about 2^16 names, as an attacker with a victim's digits does offline."""
    seen = {}
    for length in range(1, 9):
        for tail in itertools.product(".,;:!?'", repeat=length):
            name = "Ada Lovelace" + "".join(tail)
            key = old_folder_name(name)
            if key in seen:
                return seen[key], name
            seen[key] = name
    raise AssertionError("no collision found")


def test_a_collision_of_the_old_scheme_gets_two_identities():
    first, second = find_old_collision()
    assert first != second and old_folder_name(first) == old_folder_name(second)  # a real collision, before
    people = identity.People(None)
    a, b = people.match(first).student, people.match(second).student
    assert a.id != b.id  # after: two students, two folders, two gradebook entries
    table = credits.credit([record("a.ipynb", first, "self", "5"), record("b.ipynb", second, "self", "0")],
                           ["nb1"], people)
    rows = student_rows(table, ["nb1"], {"nb1": 5})
    assert sorted(r["nb1"] for r in rows) == ["0", "5"] and len({r["id"] for r in rows}) == 2


def test_spelled_ids_are_injective_and_path_safe():
    keys = ["ada lovelace", "ada-lovelace", "ada_lovelace", "ada_2d_lovelace", "ada lovelace.", "ａｄａ", "李 华"]
    ids = [identity.spelled_id(k) for k in keys]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-z0-9_-]+", i) for i in ids), ids


def test_pairs_count_only_when_both_sides_confirm(roster):
    records = [
        record("alan.ipynb", "Alan Turing", "Jose Nunez", "5"),   # José does not name Alan back
        record("jose.ipynb", "José Núñez", "self", "2"),
        record("mia.ipynb", "Mia Wong", "Alan Turing", "1"),     # Mia claims Alan as well
        record("ada.ipynb", "Ada Lovelace", "Grace Hopper", "4"),  # the roster pairs Ada and Grace
    ]
    table = credits.credit(records, ["nb1"], roster)
    rows = {r["id"]: r for r in student_rows(table, ["nb1"], {"nb1": 5})}
    assert rows["s003"]["nb1"] == "2" and rows["s003"]["flagged"] == ""      # nothing changes for José
    assert rows["s004"]["nb1"] == "5" and rows["s004"]["flagged"] == "FLAGGED"
    assert "names José Núñez as partner, who does not name you back" in rows["s004"]["reason"]
    assert "Mia" not in rows["s004"]["reason"] and rows["s007"]["flagged"] == "FLAGGED"
    assert rows["s001"]["nb1"] == rows["s002"]["nb1"] == "4"                 # Grace handed nothing: the roster pair
    assert table.by_student[("s002", "nb1")].unit == "s001+s002"
    assert rows["s005"]["nb1"] == "" and len(rows) == 7                       # the whole roster has rows


def test_a_students_counted_file_is_their_own_or_their_confirmed_partners(roster):
    records = [record("alan.ipynb", "Alan Turing", "Mia Wong", "3"),
               record("mia.ipynb", "Mia Wong", "Alan Turing", "5"),
               record("intruder.ipynb", "José Núñez", "Mia Wong", "5")]
    table = credits.credit(records, ["nb1"], roster)
    assert table.by_student[("s004", "nb1")].result.path == "mia.ipynb"
    assert table.by_student[("s007", "nb1")].partners == ("s004",)
    assert table.counted("nb1")["s004+s007"].path == "mia.ipynb"


def test_a_roster_error_says_which_line(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("id,first_name,last_name\ns1,Ada,Lovelace\ns1,Grace,Hopper\n")
    with pytest.raises(roster_module.RosterError, match="line 3: the id 's1' is also on line 2"):
        roster_module.read_roster(path)
    path.write_text("id,first_name,last_name\n../etc,Ada,Lovelace\n")
    with pytest.raises(roster_module.RosterError, match="line 2"):
        roster_module.read_roster(path)
    path.write_text("name,email\nAda,a@x\n")
    with pytest.raises(roster_module.RosterError, match="no id column"):
        roster_module.read_roster(path)


def test_lms_files_follow_the_importers_layouts(roster, tmp_path):
    """Canvas: Student ("Last, First"), ID, SIS User ID, SIS Login ID, Section, one column per
    assignment, and a Points Possible row; Moodle: First name, Last name, ID number, Email address,
    a file per assignment. Students without an id that LMS knows are left out and listed."""
    records = [record("ada.ipynb", "Ada Lovelace", "Grace Hopper", "4"),
               record("grace.ipynb", "Grace Hopper", "Ada Lovelace", "3", assignment="nb2")]
    table = credits.credit(records, ["nb1", "nb2"], roster)
    rows = standing.student_rows(table, ["nb1", "nb2"], {"nb1": 5, "nb2": 7})
    canvas = lms.write_canvas(tmp_path / "canvas.csv", rows, roster, ["nb1", "nb2"], {"nb1": 11, "nb2": 7})
    moodle = lms.write_moodle(tmp_path / "moodle.csv", rows, roster, ["nb1", "nb2"])
    lines = list(csv.reader((tmp_path / "canvas.csv").open(newline="")))
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "nb1", "nb2"]
    assert lines[1] == ["Points Possible", "", "", "", "", "11", "7"]
    by_id = {line[1]: line for line in lines[2:]}
    assert by_id["1001"] == ["Lovelace, Ada", "1001", "SIS1", "alovelace", "A", "4", "3"]
    assert by_id["1003"][5:] == ["", ""]  # nothing counted: blank, which Canvas leaves unchanged
    assert canvas.rows == 4 and sorted(canvas.left_out) == ["John Smith", "John Smith", "Mia Wong"]
    # Moodle: a file per assignment with only the students it grades (a blank cell clears a grade in Moodle)
    assert [out.path.name for out in moodle] == ["moodle-nb1.csv", "moodle-nb2.csv"]
    nb1 = list(csv.reader((tmp_path / "moodle-nb1.csv").open(newline="")))
    assert nb1[0] == ["First name", "Last name", "ID number", "Email address", "nb1"]
    assert sorted(nb1[1:]) == [["Ada", "Lovelace", "M001", "ada.lovelace@uni.edu", "4"],
                               ["Grace", "Hopper", "M002", "grace.hopper@uni.edu", "4"]]
    nb2 = list(csv.reader((tmp_path / "moodle-nb2.csv").open(newline="")))
    assert all(line[4] != "" for line in nb2[1:]) and ["Grace", "Hopper", "M002", "grace.hopper@uni.edu", "3"] in nb2
    assert all(out.left_out == [] for out in moodle)  # Mia has no email, but no points to post either


def test_partial_hand_grades_show_points_so_far(roster):
    table = credits.credit([record("alan.ipynb", "Alan Turing", "self", "3")], ["nb1"], roster)
    answers = (WrittenGrade("q1", 2.0, 2.0, ""), WrittenGrade("q2", None, 2.0, ""),
               WrittenGrade("q3", None, 2.0, ""))
    hand = {("s004", "nb1"): HandScore(auto=3.0, answers=answers)}
    row = next(r for r in student_rows(table, ["nb1"], {"nb1": 5}, hand, {"nb1": 6}) if r["id"] == "s004")
    assert (row["nb1"], row["nb1_written"], row["total"], row["max_total"]) == ("3", "2", "5", "11")
    assert "written answers 1 of 3 graded" in row["reason"]


def test_the_gradebooks_students_are_the_roster_without_the_entries_the_grader_made(tmp_path, monkeypatch):
    import os
    import sys

    from nbgrader.api import Gradebook

    # nbgrader runs alembic
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        gradebook.add_student("s001", first_name="Ada", last_name="Lovelace", email="ada@uni.edu")
        gradebook.add_student("s001+s002", first_name="Grace Hopper", last_name="Ada Lovelace",
                              lms_user_id=roster_module.GRADER_ENTRY)
        gradebook.add_student("typed.sol", first_name="working alone", last_name="Sol",
                              lms_user_id=roster_module.GRADER_ENTRY)
    students = roster_module.gradebook_roster(url)
    assert [(s.id, s.name, s.email) for s in students] == [("s001", "Ada Lovelace", "ada@uni.edu")]


def test_feedback_shows_an_fstring_message_as_text():
    import ast

    from rnnlab_grader.explain import message_text, visible_message

    node = ast.parse('f"expected shape {want}, got {out.shape}" + " (see the TODO)"', mode="eval").body
    assert message_text(node) == "expected shape …, got … (see the TODO)"
    source = 'out = f(1)\nassert out.shape == (3,), f"f(1) has shape {out.shape}, expected (3,)"\n'
    assert visible_message(source, 2) == "f(1) has shape …, expected (3,)"


MALLORYS_UPLOAD = "Alan Turing_4414_assignsubmission_file_/lovelaceada_1001_77_bptt_by_hand.ipynb"


def test_in_a_moodle_folder_the_folder_decides_never_the_uploads_own_name(roster):
    """Alan uploads a file he named like Ada's Canvas download (her Canvas id is in the roster
    layout the README shows): the file is Alan's, and flagged."""
    match = roster.from_file_name(MALLORYS_UPLOAD)
    assert match.student.id == "s004" and "Ada Lovelace" in match.note and "folder's owner only" in match.note
    own = roster.from_file_name("Ada Lovelace_4411_assignsubmission_file_/lovelaceada_1001_77_x.ipynb")
    assert own.student.id == "s001" and own.note == ""  # her own folder, whatever she called the file
    assert roster.from_file_name("uploads/lovelaceada_1001_77_x.ipynb") is None  # Canvas names only top-level files
    assert roster.from_file_name("müllerjosé_1003_99_x.ipynb").student.id == "s003"  # any Unicode letter


def test_a_stranger_cannot_take_a_classmates_grade_through_an_upload_name(roster):
    records = [record(MALLORYS_UPLOAD, "Ada Lovelace", "Alan Turing", "19"),
               record("Ada Lovelace_4411_assignsubmission_file_/01_bptt_by_hand.ipynb", "Ada Lovelace", "self", "7")]
    table = credits.credit(records, ["nb1"], roster)
    rows = {r["id"]: r for r in student_rows(table, ["nb1"], {"nb1": 19})}
    assert rows["s001"]["nb1"] == "7" and "s004" not in table.by_student[("s001", "nb1")].partners
    assert table.by_student[("s001", "nb1")].result.path.startswith("Ada Lovelace_")
    assert rows["s004"]["nb1"] == "19" and rows["s004"]["flagged"] == "FLAGGED"  # his own file, flagged
    assert "folder's owner only" in rows["s004"]["reason"]


def test_a_roster_saved_by_excel_is_read(tmp_path):
    """Excel writes ';' where ',' is the decimal mark and, on Windows, cp1252 text (#32)."""
    path = tmp_path / "roster.csv"
    path.write_bytes("id;first_name;last_name\r\ns003;José;Núñez\r\n".encode("cp1252"))
    students = roster_module.read_roster(path)
    assert [(s.id, s.first_name, s.last_name) for s in students] == [("s003", "José", "Núñez")]
    path.write_text("student id\tgiven name\tsurname\ns1\tAda\tLovelace\n")
    assert roster_module.read_roster(path)[0].last_name == "Lovelace"
    path.write_text("name|surname\nAda|Lovelace\n")
    with pytest.raises(roster_module.RosterError, match="read with the delimiter ','"):
        roster_module.read_roster(path)


def test_a_file_from_someone_not_on_the_roster_never_counts_for_the_student_it_names(roster):
    """A Canvas user missing from the roster hands in a copy of Ada's notebook, still naming Ada (#32)."""
    records = [record("strangerx_9999_12_nb.ipynb", "Ada Lovelace", "Grace Hopper", "19"),
               record("lovelaceada_1001_13_nb.ipynb", "Ada Lovelace", "Grace Hopper", "7")]
    table = credits.credit(records, ["nb1"], roster)
    assert table.by_student[("s001", "nb1")].result.path == "lovelaceada_1001_13_nb.ipynb"
    assert [r.path for r, _ in table.unidentified] == ["strangerx_9999_12_nb.ipynb"]
    rows = {r["student"]: r for r in student_rows(table, ["nb1"], {"nb1": 19})}
    assert rows["Ada Lovelace"]["nb1"] == "7" and "strangerx" not in rows["Ada Lovelace"]["reason"]
    stray = rows["(unidentified) strangerx_9999_12_nb.ipynb"]
    assert stray["flagged"] == "FLAGGED" and "Canvas user 9999 is not on the roster" in stray["reason"]


def test_two_students_of_one_name_pair_through_the_lms():
    """Canvas names who handed each file in; a typed "John Smith" then names the submitter when he is
    one of the two, and as a partner means the John Smith whose own file names the claimant back."""
    people = identity.People([roster_module.Student("s4", "John", "Smith", canvas_id="2004"),
                              roster_module.Student("s5", "John", "Smith", canvas_id="2005"),
                              roster_module.Student("s6", "Emmy", "Noether", canvas_id="2006")])
    records = [record("smithjohn_2005_1_nb.ipynb", "John Smith", "Emmy Noether", "6"),
               record("noetheremmy_2006_2_nb.ipynb", "Emmy Noether", "John Smith", "5"),
               record("smithjohn_2004_3_nb.ipynb", "John Smith", "self", "2")]
    table = credits.credit(records, ["nb1"], people)
    emmy, john, other = (table.by_student[s, "nb1"] for s in ("s6", "s5", "s4"))
    assert emmy.partners == ("s5",) and john.partners == ("s6",) and emmy.unit == "s5+s6"
    assert emmy.result.points == john.result.points == 6 and not emmy.flagged and not john.flagged, emmy.notes
    assert other.partners == () and other.result.points == 2 and not other.flagged
    lonely = credits.credit(records[1:], ["nb1"], people).by_student["s6", "nb1"]   # nobody names Emmy back
    assert lonely.partners == () and lonely.flagged
    assert any("may be John Smith (s4) or John Smith (s5): neither names you back" in n for n in lonely.notes)
