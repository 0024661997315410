"""The course's results store (``rnnlab_grader.store``): runs add to it, a crash cannot corrupt
it, a second run is refused, and graded copies are kept beside it."""
import dataclasses
import multiprocessing

import pytest

from rnnlab_grader.results import FileResult, GradedCopy
from rnnlab_grader.store import Store, StoreBusy


def result(path, assignment="nb1", sha="a" * 64, points=5.0, **changes):
    return dataclasses.replace(FileResult(path, sha, assignment, "Ada", "self", points=points, max_points=5.0),
                               **changes)


def test_runs_accumulate_and_the_newest_result_of_a_file_wins(tmp_path):
    first = Store(tmp_path / "results")
    first.add(result("ada.ipynb", "nb1"))
    first.add(result("ada.ipynb", "nb2", sha="b" * 64))  # another notebook's folder, the same name
    second = Store(tmp_path / "results").load()
    assert [(r.assignment, r.points) for r in second.all()] == [("nb1", 5.0), ("nb2", 5.0)]
    second.add(result("ada.ipynb", "nb1", sha="c" * 64, points=3.0))  # handed in again, changed
    third = Store(tmp_path / "results").load()
    assert [(r.assignment, r.sha256[0], r.points) for r in third.all()] == [("nb1", "c", 3.0), ("nb2", "b", 5.0)]
    assert ("ada.ipynb", "c" * 64) in third.graded_files() and ("ada.ipynb", "a" * 64) not in third.graded_files()


def test_a_line_cut_short_by_a_crash_loses_only_itself(tmp_path):
    store = Store(tmp_path / "results")
    store.add(result("a.ipynb"))
    with store.path.open("ab") as handle:
        handle.write(b'{"path": "b.ipynb", "sha2')  # the process died mid-line
    store = Store(tmp_path / "results").load()
    assert [r.path for r in store.all()] == ["a.ipynb"] and store.skipped_lines == 1
    store.add(result("c.ipynb"))  # starts on a line of its own
    again = Store(tmp_path / "results").load()
    assert [r.path for r in again.all()] == ["a.ipynb", "c.ipynb"] and again.skipped_lines == 1


def test_the_graded_copy_is_kept_beside_the_line(tmp_path):
    store = Store(tmp_path / "results")
    store.add(result("a.ipynb", copy=GradedCopy('{"cells": []}', {2: {"text": "printed"}})))
    loaded = Store(tmp_path / "results").load()
    (kept,) = loaded.all()
    assert kept.copy is None and "printed" not in store.path.read_text()
    assert loaded.copy_of(kept) == GradedCopy('{"cells": []}', {2: {"text": "printed"}})
    assert loaded.copy_of(result("b.ipynb", sha="f" * 64)) is None


def _hold(folder, ready, release):
    with Store(folder).locked():
        ready.set()
        release.wait(30)


def test_a_second_grading_run_on_the_same_store_is_refused(tmp_path):
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(tmp_path / "results", ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(StoreBusy, match="already running"):
            with Store(tmp_path / "results").locked():
                pass
    finally:
        release.set()
        holder.join(30)
    with Store(tmp_path / "results").locked():  # free again once the first run ended
        pass


def test_grading_worksheets_are_kept_once_each(tmp_path):
    sheet = tmp_path / "w.csv"
    sheet.write_text("Identifier,Full name,Email address\nParticipant 1,Ada Lovelace,ada@uni.edu\n")
    store = Store(tmp_path / "store")
    assert store.worksheets() == []
    kept = store.worksheets((sheet, sheet))
    assert len(kept) == 1 and kept[0].read_bytes() == sheet.read_bytes()
    sheet.write_text("Identifier,Full name,Email address\nParticipant 2,Grace Hopper,grace@uni.edu\n")
    assert len(store.worksheets((sheet,))) == 2 and Store(tmp_path / "store").worksheets() == store.worksheets()
