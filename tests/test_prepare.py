"""Preparing a file outside the sandbox, in a child process with limits (``rnnlab_grader.prepare``)."""
import nbformat

from rnnlab_grader import submissions
from rnnlab_grader.releases import Release
from tiny_course import blank, perfect, tiny_notebook


def test_a_file_past_the_preparation_limits_gets_a_flagged_row(tmp_path):
    """Preparing runs in a child process with its own memory limit: 10 million empty cells (30 MB,
    about 1 GB as Python objects) cost that child (limited to 512 MiB here), and the file gets a flagged
    row with a reason."""
    from rnnlab_grader import prepare

    path = tmp_path / "braces.ipynb"
    path.write_text('{"cells": [' + "{}," * 10_000_000 + "{}]}")
    prepared = prepare.prepare_bounded(path, [], memory_bytes=2**29)
    assert prepared.flags == [prepare.LIMIT_FLAG] and "within the grader's limits" in prepared.reason
    assert prepared.sha256 == submissions.sha256(path)
    nbformat.write(perfect(), tmp_path / "fine.ipynb")
    fine = prepare.prepare_bounded(tmp_path / "fine.ipynb", [Release("00_tiny", "tiny", blank(),
                                                                               tiny_notebook(True), 5.0)])
    assert fine.reason == "" and fine.your_name == "Ada Lovelace" and [c.kind for c in fine.cells].count("test") == 3
