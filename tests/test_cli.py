"""The command line (``rnnlab_grader.cli``): one frozen ``Options``, and folders checked before
anything runs."""
import dataclasses
from pathlib import Path

import pytest

from rnnlab_grader import cli


def test_the_options_are_one_frozen_value_with_the_store_beside_the_table(tmp_path):
    chosen = cli.options([str(tmp_path), "--out", str(tmp_path / "grades-by-file.csv"), "--jobs", "3", "--resume"])
    assert chosen.store == tmp_path / "grades-results" and chosen.jobs == 3 and chosen.resume
    assert cli.options([str(tmp_path), "--out", "x.csv"]).store == Path("x-results")
    assert cli.options([str(tmp_path), "--store", "elsewhere"]).store == Path("elsewhere")
    with pytest.raises(dataclasses.FrozenInstanceError):
        chosen.jobs = 1


def test_folders_are_checked_first(tmp_path):
    (tmp_path / "file.ipynb").write_text("{}")
    assert "does not exist" in cli.check_folders(tmp_path / "missing", tmp_path)
    assert "is a file" in cli.check_folders(tmp_path / "file.ipynb", tmp_path)
    assert "not the course root" in cli.check_folders(tmp_path, tmp_path)
    (tmp_path / "solutions").mkdir()
    assert "make release" in cli.check_folders(tmp_path, tmp_path)
    (tmp_path / "notebooks").mkdir()
    assert cli.check_folders(tmp_path, tmp_path) is None
