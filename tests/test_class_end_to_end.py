"""A real class through a real LMS, end to end (#32): a roster of 8 with accents and two John Smiths,
notebook 01 handed in as a Canvas "Download Submissions" folder (a LATE file, a Canvas user not on the
roster handing in a copy of Ada's notebook, a submission of notebook 02 to notebook 01, a one-sided
pair, a pair that only the LMS can tell apart), notebook 02 as a Moodle "Download all submissions"
folder (the two John Smiths told apart by the grading worksheet, a file after the due date), graded
in two runs into one store, then hand-graded in formgrader in headless Chromium and graded again.

The Canvas and Moodle files are checked by rules written from the importers' own source
(Canvas ``gradebook_importer.rb``, Moodle ``grade/import/csv/classes/load_data.php``), the feedback
bundles by Canvas's ``infer_comment_context_from_filename`` and Moodle's
``is_valid_filename_for_import``.
"""
import csv
import datetime
import os
import re
import subprocess
import sys
import zipfile

import nbformat
import pytest

from formgrader_browser import formgrader, wait_until
from notebook_tools import ROOT, nbgrader_meta, solution_notebooks, student_version

sys.path.insert(0, str(ROOT / "scripts"))
import release

NB1, NB2 = "01_bptt_by_hand", "02_imdb_gradient_probe"
ROSTER = """id;first_name;last_name;email;section;canvas_id;sis_user_id;sis_login_id
s001;Ada;Lovelace;ada@uni.edu;A;1001;;alovelace
s002;Grace;Hopper;grace@uni.edu;A;1002;;ghopper
s003;José;Müller;jose@uni.edu;A;1003;;jmuller
s004;John;Smith;john.smith1@uni.edu;B;1004;;jsmith1
s005;John;Smith;john.smith2@uni.edu;B;1005;;jsmith2
s006;Emmy;Noether;emmy@uni.edu;B;1006;;enoether
s007;Alan;Turing;alan@uni.edu;B;1007;;aturing
s008;Mia;Wong;mia@uni.edu;B;1008;;mwong
"""
WORKSHEET = """Identifier,Full name,Email address,Status,Grade,Maximum Grade
Participant 4401,Ada Lovelace,ada@uni.edu,Submitted for grading,,14.00
Participant 4402,Grace Hopper,grace@uni.edu,Submitted for grading,,14.00
Participant 4403,José Müller,jose@uni.edu,Submitted for grading,,14.00
Participant 4404,John Smith,john.smith1@uni.edu,Submitted for grading,,14.00
Participant 4405,John Smith,john.smith2@uni.edu,Submitted for grading,,14.00
"""
SETTINGS = """
[canvas.assignment_ids]
01_bptt_by_hand = 111
02_imdb_gradient_probe = 222

[late]
01_bptt_by_hand = { due = 2026-10-01T23:59:00Z, rule = "flag" }
02_imdb_gradient_probe = { due = 2026-10-15T23:59:00Z, penalty = 0.1 }
"""
ON_TIME = datetime.datetime(2026, 9, 30, 12, tzinfo=datetime.timezone.utc).timestamp()
AFTER_DUE = datetime.datetime(2026, 10, 16, 12, tzinfo=datetime.timezone.utc).timestamp()


def notebook(assignment, name, partner, perfect=True):
    solution = next(s for s in solution_notebooks() if s.parent.name == assignment)
    work = (release.perfect_submission(solution, student_version(solution)) if perfect
            else nbformat.read(student_version(solution), 4))
    for cell in work.cells:
        if nbgrader_meta(cell).get("grade_id") == "pair_names":
            cell.source = f"your_name = {name!r}\nyour_partner_name = {partner!r}"
    return work


def hand_in(folder, files):
    for path, (work, when) in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(work, folder / path)
        os.utime(folder / path, (when, when))


def grade(course, folder, *extra):
    done = subprocess.run(
        [sys.executable, "-m", "rnnlab_grader.cli", str(folder), "--root", str(course), "--jobs", "2",
         "--out", str(course / "grades-by-file.csv"), "--store", str(course / "grades-results"),
         "--students", str(course / "grades.csv"), "--gradebook", str(course / "gradebook.db"),
         "--roster", str(course / "roster.csv"), "--canvas", str(course / "grades-canvas.csv"),
         "--moodle", str(course / "grades-moodle.csv"), "--feedback", str(course / "feedback"),
         "--uploads", str(course / "feedback-upload"), "--final", str(course / "grades-final"), *extra],
        capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, {r["id"] or r["student"]: r for r in csv.DictReader((course / "grades.csv").open(newline=""))}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    work = tmp_path_factory.mktemp("class")
    course = release.scratch_course(ROOT, work / "course")
    text = (course / "course.toml").read_text()
    (course / "course.toml").write_text(text[:text.index("[canvas.assignment_ids]")] + SETTINGS.lstrip())
    (course / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (course / "worksheet-02.csv").write_text(WORKSHEET, encoding="cp1252")
    ada = notebook(NB1, "Ada Lovelace", "Grace Hopper")
    canvas = work / "canvas-01"
    hand_in(canvas, {
        "lovelaceada_1001_501_bptt_by_hand.ipynb": (ada, ON_TIME),
        "hoppergrace_1002_502_bptt_by_hand.ipynb": (ada, ON_TIME),               # one shared notebook
        "müllerjosé_1003_503_bptt_by_hand.ipynb": (notebook(NB1, "José Müller", "Mia Wong"), ON_TIME),
        "smithjohn_LATE_1005_505_bptt_by_hand.ipynb": (notebook(NB1, "John Smith", "Emmy Noether"), ON_TIME),
        "noetheremmy_1006_506_bptt_by_hand.ipynb": (notebook(NB1, "Emmy Noether", "John Smith", False), ON_TIME),
        "smithjohn_1004_504_bptt_by_hand.ipynb": (notebook(NB1, "John Smith", "self", False), ON_TIME),
        "strangerx_1999_599_bptt_by_hand.ipynb": (ada, ON_TIME),                 # not on the roster
        "turingalan_1007_507_imdb_gradient_probe.ipynb": (notebook(NB2, "Alan Turing", "self"), ON_TIME),
    })
    first, _ = grade(course, canvas)
    moodle = work / "moodle-02"
    ada2 = notebook(NB2, "Ada Lovelace", "Grace Hopper")
    hand_in(moodle, {
        "Ada Lovelace_4401_assignsubmission_file/imdb_gradient_probe.ipynb": (ada2, ON_TIME),
        "Grace Hopper_4402_assignsubmission_file/imdb_gradient_probe.ipynb": (ada2, ON_TIME),
        "José Müller_4403_assignsubmission_file/probe (1).ipynb": (notebook(NB2, "José Müller", "self"), ON_TIME),
        "John Smith_4404_assignsubmission_file/imdb_gradient_probe.ipynb": (
            notebook(NB2, "John Smith", "self"), AFTER_DUE),
        "John Smith_4405_assignsubmission_file/imdb_gradient_probe.ipynb": (
            notebook(NB2, "John Smith", "self", False), ON_TIME),
    })
    second, students = grade(course, moodle, "--moodle-worksheet", str(course / "worksheet-02.csv"))
    return {"course": course, "canvas": canvas, "moodle": moodle, "first": first, "second": second,
            "students": students}


def by_file(course):
    return {r["submission"]: r for r in csv.DictReader((course / "grades-by-file.csv").open(newline=""))}


@pytest.mark.slow
def test_every_student_is_credited_and_told_why(graded):
    students, files = graded["students"], by_file(graded["course"])
    untouched1 = files["smithjohn_1004_504_bptt_by_hand.ipynb"]["total"]
    untouched2 = files["John Smith_4405_assignsubmission_file/imdb_gradient_probe.ipynb"]["total"]
    points = {sid: (row[NB1], row[NB2]) for sid, row in students.items() if sid.startswith("s")}
    assert points == {"s001": ("19", "8"), "s002": ("19", "8"), "s003": ("19", "8"),
                      "s004": (untouched1, "7.2"),          # notebook 02 late: 8 less 10 %
                      "s005": ("19", untouched2), "s006": ("19", ""),   # the John Smith who named Emmy back
                      "s007": ("", "8"),                    # notebook 02 handed in to notebook 01: graded as 02
                      "s008": ("", "")}
    reason = {sid: row["reason"] for sid, row in students.items()}
    assert "names Mia Wong as partner, who handed in no file" in reason["s003"] and students["s003"]["flagged"]
    assert "José Müller named you as partner" in reason["s008"] and f"{NB1}: no file counts" in reason["s008"]
    assert f"{NB2}: no file counts" in reason["s006"] and "late" in reason["s006"] and students["s006"]["flagged"]
    assert "handed in late" in reason["s004"] and "other-notebook" in files[
        "turingalan_1007_507_imdb_gradient_probe.ipynb"]["flagged"] + files[
        "turingalan_1007_507_imdb_gradient_probe.ipynb"]["reason"]
    stranger = [row for key, row in students.items() if "strangerx" in key]
    assert len(stranger) == 1 and "Canvas user 1999 is not on the roster" in stranger[0]["reason"]
    assert "strangerx" not in students["s001"]["files"] and not students["s001"]["flagged"]
    assert "strangerx" not in (graded["course"] / "feedback" / "s001" / f"{NB1}.html").read_text()
    assert files["smithjohn_LATE_1005_505_bptt_by_hand.ipynb"]["flagged"] and "late" in reason["s005"]


@pytest.mark.slow
def test_both_notebooks_are_in_every_table_after_the_second_run(graded):
    course = graded["course"]
    files = by_file(course)
    assert {r["assignment"] for r in files.values()} == {NB1, NB2} and len(files) == 13
    assert all(NB1 in row and NB2 in row for row in graded["students"].values())
    head = next(csv.reader((course / "grades-canvas.csv").open(newline="")))
    assert head[5:] == ["01_bptt_by_hand (111)", "02_imdb_gradient_probe (222)"]  # no blank notebooks
    assert not (course / "grades-moodle-03_rnn_vs_lstm_sweep.csv").exists()
    assert "students: from the roster (8)" in graded["second"]


def check_canvas(path):
    """Canvas's importer: the header names Student, ID, SIS User ID, SIS Login ID, Section, then columns
    it matches to assignments by "Name (id)"; a Points Possible row; a student is found by ID or SIS
    ids; a cell is a number or blank (left unchanged)."""
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert all(re.fullmatch(r".+ \(\d+\)", title) for title in rows[0][5:]), rows[0]
    assert rows[1][0] == "Points Possible" and all(float(v) > 0 for v in rows[1][5:])
    for row in rows[2:]:
        assert len(row) == len(rows[0]) and (row[1] or row[2] or row[3])
        assert all(re.fullmatch(r"|-?\d+(\.\d+)?", cell) for cell in row[5:]), row
    return {row[1]: row[5:] for row in rows[2:]}


def check_moodle(path):
    """Moodle's importer: a mapping column (email) never empty, every grade a number, never blank
    (a blank clears the grade Moodle has)."""
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    assert rows[0][:4] == ["First name", "Last name", "ID number", "Email address"] and len(rows[0]) == 5
    for row in rows[1:]:
        assert "@" in row[3] and re.fullmatch(r"-?\d+(\.\d+)?", row[4]), row
    return {row[3]: row[4] for row in rows[1:]}


@pytest.mark.slow
def test_lms_files_import_unedited(graded):
    course = graded["course"]
    whole = check_canvas(course / "grades-canvas.csv")
    assert whole["1005"][:2] == ["19", whole["1005"][1]] and whole["1008"][:2] == ["", ""]
    assert check_canvas(course / f"grades-canvas-{NB2}.csv")["1004"] == ["7.2"]
    moodle = check_moodle(course / f"grades-moodle-{NB2}.csv")
    assert moodle["john.smith1@uni.edu"] == "7.2" and "mia@uni.edu" not in moodle and "emmy@uni.edu" not in moodle
    assert not (course / "grades-final" / f"canvas-{NB1}.csv").exists()   # written answers not graded yet
    assert "still to grade in formgrader" in graded["second"]


def canvas_reads(name):
    numbers = [part for part in name.split("_") if re.fullmatch(r"\d+", part)]
    return tuple(numbers[:2])


@pytest.mark.slow
def test_feedback_bundles_reach_each_student(graded):
    course = graded["course"]
    with zipfile.ZipFile(course / "feedback-upload" / f"canvas-{NB1}.zip") as archive:
        canvas = {canvas_reads(name): archive.read(name).decode() for name in archive.namelist()}
    assert set(canvas) == {("1001", "501"), ("1002", "502"), ("1003", "503"), ("1005", "505"), ("1006", "506"),
                           ("1004", "504")}   # not the stranger's file, nor Alan's (it counts for notebook 02)
    assert "feedback for José Müller" in canvas["1003", "503"]
    with zipfile.ZipFile(course / "feedback-upload" / f"moodle-{NB2}.zip") as archive:
        moodle = {name.split("/")[0].split("_", 4)[1]: archive.read(name).decode() for name in archive.namelist()}
    assert sorted(moodle) == ["4401", "4402", "4403", "4404", "4405"]
    assert "late" in moodle["4404"] and "feedback for John Smith" in moodle["4405"]


def hand_grade_in_formgrader(course, scratch):
    """As an instructor does, in formgrader in headless Chromium: full marks typed into every written
    answer's score box of each notebook-01 submission, the pair's test_clip overridden to 0 and a
    comment typed on its clip_by_global_norm answer. Returns the submissions graded, once the
    gradebook holds every grade."""
    from nbgrader.api import Gradebook
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    database = f"sqlite:///{course / 'gradebook.db'}"
    wanted = {"s001+s002": ({"test_clip": 0.0}, {"clip_by_global_norm": "Clip <b>once</b>"})}

    def missing(student):
        """What formgrader has not saved yet for ``student`` (empty once all is saved)."""
        scores, comments = wanted.get(student, ({}, {}))
        with Gradebook(database) as gradebook:
            notebook = gradebook.find_submission(NB1, student).notebooks[0]
            left = [g.name for g in notebook.grades if g.manual_score is None and g.auto_score is None]
            left += [g.name for g in notebook.grades if g.name in scores and g.manual_score != scores[g.name]]
            return left + [c.name for c in notebook.comments if c.name in comments
                           and c.manual_comment != comments[c.name]]

    with Gradebook(database) as gradebook:
        pages = {s.student.id: (s.notebooks[0].id, {g.name: g.max_score for g in s.notebooks[0].grades
                                                    if g.auto_score is None})
                 for s in gradebook.assignment_submissions(NB1)}
    with formgrader(course, scratch) as (chrome, base):
        for student, (page, written) in pages.items():
            chrome.get(f"{base}/formgrader/submissions/{page}")
            wait_until(lambda: chrome.find_elements(By.CSS_SELECTOR, "input.score[placeholder]"), 60,
                       f"formgrader's page of {student}")   # its scripts have bound the inputs
            assert written, f"{student} has no written answer to grade"
            scores, comments = wanted.get(student, ({}, {}))
            for name, points in {**written, **scores}.items():
                box = chrome.find_element(By.ID, name)
                box.clear()
                box.send_keys(f"{points:g}", Keys.TAB)   # formgrader saves when the box loses focus
            for name, text in comments.items():
                chrome.find_element(By.ID, f"{name}-comment").send_keys(text, Keys.TAB)
            wait_until(lambda student=student: not missing(student), 30, f"formgrader saving {student}'s hand grades")
    return sorted(pages)


@pytest.mark.slow
def test_hand_grades_make_the_grades_final_and_reach_the_pages(graded, tmp_path):
    course = graded["course"]
    assert hand_grade_in_formgrader(course, tmp_path) == ["s001+s002", "s003", "s004", "s005+s006"]
    out, students = grade(course, graded["canvas"], "--resume")   # without the worksheet: the store kept it
    assert f"{NB1}: hand grading complete" in out and "grading 0 files" in out
    assert (students["s004"][NB2], students["s005"][NB1]) == ("7.2", "19")
    assert not any(key.startswith("(unidentified) John Smith") for key in students)
    final = check_canvas(course / "grades-final" / f"canvas-{NB1}.csv")
    ada = students["s001"]
    assert float(final["1001"][0]) == float(ada[NB1]) + float(ada[NB1 + "_written"]) == float(ada[NB1]) + 12
    assert check_moodle(course / "grades-final" / f"moodle-{NB1}.csv")["ada@uni.edu"] == final["1001"][0]
    page = (course / "feedback" / "s002" / f"{NB1}.html").read_text()
    assert "(changed by the instructor)" in page and "Clip &lt;b&gt;once&lt;/b&gt;" in page
    assert not (course / "grades-final" / f"canvas-{NB2}.csv").exists()
