"""Autograded results reach the instructor's nbgrader gradebook for formgrader, hand grades
survive grading again and re-releasing, and the per-student table adds them.

One real notebook (the smallest), a scratch course released by ``scripts/release.py`` (so its
gradebook is nbgrader's own), three submissions: a pair's perfect notebook handed in twice (one
copy each), and a student alone with the untouched release.
"""
import csv
import subprocess
import sys

import nbformat
import pytest
from notebook_tools import ROOT, nbgrader_meta, solution_notebooks, student_version

sys.path.insert(0, str(ROOT / "scripts"))
import release  # noqa: E402

ASSIGNMENT = "01_bptt_by_hand"
PAIR = "ada_lovelace-"  # the start of the pair's gradebook id


def with_names(notebook, name, partner):
    for cell in notebook.cells:
        if nbgrader_meta(cell).get("grade_id") == "pair_names":
            cell.source = f"your_name = {name!r}\nyour_partner_name = {partner!r}"
    return notebook


def grade(folder, course, *extra):
    done = subprocess.run([sys.executable, "-m", "rnnlab_grader.cli", str(folder), "--root", str(course),
                           "--out", str(course / "by-file.csv"), "--students", str(course / "students.csv"),
                           "--gradebook", str(course / "gradebook.db"), "--jobs", "2", *extra],
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr
    return {r["student"]: r for r in csv.DictReader((course / "students.csv").open(newline=""))}


@pytest.mark.slow
def test_results_reach_the_gradebook_and_hand_grades_survive(tmp_path):
    from nbgrader.api import Gradebook

    course = release.scratch_course(ROOT, tmp_path / "course")
    solution = next(s for s in solution_notebooks() if s.parent.name == ASSIGNMENT)
    folder = tmp_path / "submitted"
    folder.mkdir()
    perfect = with_names(release.perfect_submission(solution, student_version(solution)), "Ada Lovelace", "Grace Hopper")
    nbformat.write(perfect, folder / "ada.ipynb")
    nbformat.write(perfect, folder / "grace.ipynb")
    alone = with_names(nbformat.read(student_version(solution), 4), "Sol Alone", "self")
    nbformat.write(alone, folder / "sol.ipynb")
    students = grade(folder, course)
    assert students["Ada Lovelace"][ASSIGNMENT] == "19" and students["Ada Lovelace"][f"{ASSIGNMENT}_written"] == ""
    assert students["Sol Alone"][ASSIGNMENT] == "1"

    url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        submissions = gradebook.assignment_submissions(ASSIGNMENT)
        assert len(submissions) == 2  # the pair once, the student alone once
        pair = next(s for s in submissions if s.student.id.startswith(PAIR))
        assert "+grace_hopper-" in pair.student.id
        grades = pair.notebooks[0].grades
        autograded = [g for g in grades if g.auto_score is not None]
        written = [g for g in grades if g.auto_score is None]
        assert sum(g.auto_score for g in autograded) == 19 and len(written) == 6
        assert pair.needs_manual_grade and not any(g.needs_manual_grade for g in autograded)
        for g in written:
            g.manual_score = 1.0  # the instructor grades the written answers in formgrader
        next(g for g in autograded if g.name == "test_clip").manual_score = 1.0  # and overrides a test
        gradebook.db.commit()
        pid = pair.student.id
    graded_copy = nbformat.read(course / "autograded" / pid / ASSIGNMENT / f"{solution.stem}.ipynb", 4)
    assert any("### BEGIN SOLUTION" not in c.source and nbgrader_meta(c).get("solution") for c in graded_copy.cells)
    assert all(not c.get("outputs") for c in graded_copy.cells if c.cell_type == "code")

    assert release.main(["--root", str(course)]) == 0  # make grade re-releases first
    students = grade(folder, course, "--resume")
    ada = students["Ada Lovelace"]
    assert (ada[ASSIGNMENT], ada[f"{ASSIGNMENT}_written"], ada["total"]) == ("18", "6", "24"), ada
    assert students["Grace Hopper"]["total"] == "24" and students["Sol Alone"][f"{ASSIGNMENT}_written"] == ""
    with Gradebook(url) as gradebook:
        grades = gradebook.find_submission(ASSIGNMENT, pid).notebooks[0].grades
        assert sorted(g.manual_score for g in grades if g.manual_score is not None) == [1.0] * 7
