"""A grading session as an instructor runs it (``rnnlab_grader.session``) on the tiny course:
folders graded one after another accumulate in the course's store, a second run on the same
store is refused, and one Ctrl-C stops at once, keeps what finished and says how to go on."""
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from rnnlab_grader.store import Store
from tiny_course import CELL_S, SLOT, WALL_S, blank, make_course, perfect, run_grader, with_cell, with_names

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return make_course(tmp_path_factory.mktemp("session") / "course")


def rows(path: Path) -> dict[str, dict]:
    return {r["submission"]: r for r in csv.DictReader(path.open(newline=""))}


def test_folders_graded_one_after_another_accumulate(course, tmp_path):
    """The second folder's run writes every table from the whole store: the first folder's
    files keep their rows and their students keep their points."""
    first, second = tmp_path / "week1", tmp_path / "week2"
    first.mkdir(), second.mkdir()
    nbformat.write(with_names(perfect(), "Ada Lovelace", "self"), first / "ada.ipynb")
    nbformat.write(with_names(blank(), "Alan Turing", "self"), second / "alan.ipynb")
    out, students = tmp_path / "grades-by-file.csv", tmp_path / "grades.csv"
    for folder in (first, second):
        done = run_grader(folder, course, out, "--students", str(students))
        assert done.returncode == 0, done.stderr
    assert {name: r["total"] for name, r in rows(out).items()} == {"ada.ipynb": "5", "alan.ipynb": "1"}
    by_student = {r["student"]: r["total"] for r in csv.DictReader(students.open(newline=""))}
    assert by_student == {"Ada Lovelace": "5", "Alan Turing": "1"}
    assert len(Store(tmp_path / "grades-results").load().all()) == 2


def test_a_second_run_on_the_same_course_is_refused(course, tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    nbformat.write(perfect(), folder / "ada.ipynb")
    out = tmp_path / "grades-by-file.csv"
    with Store(tmp_path / "grades-results").locked():
        done = run_grader(folder, course, out)
    assert done.returncode == 2 and "already running" in done.stderr and not out.exists()


def test_one_ctrl_c_stops_at_once_keeps_what_finished_and_says_how_to_resume(course, tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    nbformat.write(perfect(), folder / "a-perfect.ipynb")
    for name in ("b-endless", "c-endless"):
        nbformat.write(with_cell(perfect(), "while True:\n    pass"), folder / f"{name}.ipynb")
    out = tmp_path / "grades-by-file.csv"
    command = [sys.executable, "-m", "rnnlab_grader.cli", str(folder), "--root", str(course), "--out", str(out),
               "--cell-timeout", str(CELL_S * 6), "--wall", str(WALL_S), "--slot", str(SLOT), "--jobs", "1"]
    grader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen = []
    for line in grader.stdout:  # wait until the first file is graded and the endless one runs
        seen.append(line)
        if "a-perfect.ipynb: 5/5" in line:
            break
    time.sleep(3)
    grader.send_signal(signal.SIGINT)
    started = time.monotonic()
    stdout, stderr = grader.communicate(timeout=60)
    assert time.monotonic() - started < 15, "one Ctrl-C must stop grading at once"
    assert grader.returncode == 130, "".join(seen) + stdout + stderr
    assert "Traceback" not in stderr and "RESUME=1" in stderr and "1 of 3 files" in stderr, stderr
    assert list(rows(out)) == ["a-perfect.ipynb"]
    for name in ("b-endless", "c-endless"):  # the rest, graded on resume (the loop now within a short limit)
        nbformat.write(perfect(), folder / f"{name}.ipynb")
    done = run_grader(folder, course, out, "--resume")
    assert done.returncode == 0, done.stderr
    graded_now = [line for line in done.stdout.splitlines() if line.startswith("  ")]
    assert len(graded_now) == 2 and all("endless" in line for line in graded_now), done.stdout
    assert {r["total"] for r in rows(out).values()} == {"5"} and len(rows(out)) == 3


def test_a_solution_that_fails_its_own_tests_stops_grading_with_the_reason(tmp_path):
    broken = make_course(tmp_path / "course")
    path = broken / "solutions" / "00_tiny" / "tiny.ipynb"
    solution = nbformat.read(path, 4)
    for cell in solution.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "square":
            cell.source = cell.source.replace("return x * x", "return x + x")
    nbformat.write(solution, path)
    folder = tmp_path / "submitted"
    folder.mkdir()
    nbformat.write(perfect(), folder / "ada.ipynb")
    done = run_grader(folder, broken, tmp_path / "grades-by-file.csv")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Cannot grade: 00_tiny: the solution's own run fails test_square" in done.stderr
    assert "Traceback" not in done.stderr


def test_late_work_follows_the_rule_in_course_toml(course, tmp_path):
    """Every file is late for a due date in 2000: with a 50% penalty the by-file table keeps what the
    file earned, the student's row halves it and says why."""
    (course / "course.toml").write_text('[late]\n00_tiny = { due = 2000-01-01T00:00:00Z, penalty = 0.5 }\n')
    try:
        folder = tmp_path / "submitted"
        folder.mkdir()
        nbformat.write(with_names(perfect(), "Ada Lovelace", "self"), folder / "ada.ipynb")
        out, students = tmp_path / "grades-by-file.csv", tmp_path / "grades.csv"
        done = run_grader(folder, course, out, "--students", str(students))
    finally:
        (course / "course.toml").unlink()
    assert done.returncode == 0, done.stderr
    (row,) = rows(out).values()
    assert row["total"] == "5" and "handed in late (due 2000-01-01T00:00:00+00:00): 50% off" in row["reason"]
    (student,) = csv.DictReader(students.open(newline=""))
    assert student["total"] == "2.5" and "handed in late: 5 autograded points less 50% = 2.5" in student["reason"]
