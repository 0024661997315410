"""``make grade`` is fast and loud about mistakes: an unknown variable, a missing or wrong
SUBMISSIONS, a missing roster are refused before anything is installed, released or graded;
``rnnlab-grade --help`` shows its defaults; every grading output is git-ignored."""
import subprocess
import sys
import time

import pytest

from notebook_tools import ROOT


def make(*args):
    started = time.monotonic()
    done = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    return done, time.monotonic() - started


@pytest.mark.parametrize("args, says", [
    (["grade", "SUBMISSIONS=downloads", "RESUM=1"], "unknown variable RESUM"),
    (["grade"], "usage: make grade SUBMISSIONS="),
    (["grade", "SUBMISSIONS=/nonexistent/folder"], "does not exist"),
    (["grade", "SUBMISSIONS=Makefile"], "is a file"),
    (["grade", "SUBMISSIONS=tests", "ROSTER=/nonexistent.csv"], "ROSTER=/nonexistent.csv is not a file"),
    (["grade", "SUBMISSIONS=tests", "RESUME=0"], "only RESUME=1"),  # RESUME=0 once turned resuming on
    (["grade", "SUBMISSIONS=tests", "WORKSHEETS=Grades-CS101-Notebook 02-57.csv"], "rename a worksheet"),
])
def test_mistakes_are_refused_before_anything_runs(args, says):
    done, seconds = make(*args)
    assert done.returncode != 0 and says in done.stdout + done.stderr, done.stdout + done.stderr
    assert "releasing" not in done.stdout and seconds < 10


def test_the_grader_refuses_a_folder_outside_the_course_root(tmp_path):
    (tmp_path / "downloads").mkdir()
    done = subprocess.run([sys.executable, "-m", "rnnlab_grader.cli", str(tmp_path / "downloads"),
                           "--root", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "is not the course root" in done.stderr and "--root" in done.stderr


def test_help_shows_the_defaults():
    done = subprocess.run([sys.executable, "-m", "rnnlab_grader.cli", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "seconds per submission (default: 600)" in done.stdout and "--roster" in done.stdout


def test_every_grading_output_is_ignored():
    outputs = ["grades.csv", "grades-by-file.csv", "grades-summary.png", "grades-canvas.csv",
               "grades-moodle-01_bptt_by_hand.csv", "grades-canvas-01_bptt_by_hand.csv", "grades-similarity.html",
               "grades-by-file-outputs/x.json",
               "grades-results/results.jsonl", "grades-results/copies/x.json", "gradebook.db", "submitted/a/b.ipynb",
               "autograded/a/b.ipynb", "feedback/a/b.html", "roster.csv", "final-by-file.csv",
               "grades-final/canvas-01_bptt_by_hand.csv", "feedback-upload/canvas-01_bptt_by_hand.zip",
               "grades-results/worksheets/x.csv"]
    done = subprocess.run(["git", "check-ignore", "--no-index", *outputs], cwd=ROOT, capture_output=True, text=True)
    assert sorted(done.stdout.split()) == sorted(outputs), done.stdout
