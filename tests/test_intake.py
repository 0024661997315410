"""What the grader takes in before anything runs (``submissions``, ``cli``): archives an LMS
downloaded are refused with what to do, before the solutions' reference runs (#32)."""
import subprocess
import sys
import time
import zipfile

import pytest

from notebook_tools import ROOT
from rnnlab_grader import submissions


def test_an_archive_is_named_as_one(tmp_path):
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        packed.writestr("a/notebook.ipynb", "{}")
    (tmp_path / "nb.ipynb").write_text('{"cells": []}')
    assert submissions.is_archive(archive) and not submissions.is_archive(tmp_path / "nb.ipynb")
    with pytest.raises(submissions.Unreadable, match="unzip it"):
        submissions.read_submission(archive)


def test_a_folder_of_archives_is_refused_before_any_run(tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    with zipfile.ZipFile(folder / "submissions.zip", "w") as packed:
        packed.writestr("student_1_1_nb.ipynb", "{}")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "rnnlab_grader.cli", str(folder), "--root", str(ROOT),
                           "--out", str(tmp_path / "grades.csv")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "unzip" in done.stderr, done.stdout + done.stderr
    assert "reference" not in done.stdout and time.monotonic() - started < 30
