"""The typed result of one graded file (``rnnlab_grader.results``): what the store keeps of it."""
import dataclasses

import pytest

from rnnlab_grader import results
from rnnlab_grader.results import FileResult, GradedCopy, Reason, ReasonKind, SimilarFile, TestResult, TestStatus


def example(**changes) -> FileResult:
    tests = (TestResult("test_a", TestStatus.PASS, 2.0, 2.0),
             TestResult("test_b", TestStatus.FAIL, 0.0, 3.0, "ValueMismatch", 4, "grads[W_hh]"),
             TestResult("test_c", TestStatus.CRASH, 0.0, 1.0))
    return dataclasses.replace(FileResult(
        "Ada Lovelace_4411_assignsubmission_file_/a  b\u202e.ipynb", "ab" * 32, "01_bptt_by_hand", "=Ada", "-Grace",
        points=2.0, max_points=6.0, finished=True, tests=tests,
        reasons=(Reason(ReasonKind.REPAIRED, "restored 3 cells"), Reason(ReasonKind.CELL, "test_b failed")),
        flags=("frame-access",), unwritten=("gru_backward",), submitted_at=1.7e9), **changes)


def test_a_store_line_gives_back_the_same_result_without_its_copy_and_similarity():
    result = example(copy=GradedCopy("{}", {3: {"text": "hi"}}), similar=(SimilarFile("b.ipynb", 0.9),))
    again = results.from_json(results.to_json(result))
    assert again == dataclasses.replace(result, similar=()) and again.copy is None
    assert again.tests[1].status is TestStatus.FAIL and again.reasons[0].kind is ReasonKind.REPAIRED
    assert again.path == result.path and again.your_name == "=Ada"  # as handed in and typed, never escaped


def test_reason_line_puts_the_flag_first_and_ungradable_files_keep_why():
    assert results.reason_line(example()) == "FLAGGED for review: frame-access; restored 3 cells; test_b failed"
    assert results.reason_line(example(flags=(), reasons=())) == ""
    bad = results.ungradable("x.zip", "an archive: unzip it", sha256="00")
    assert (bad.points, bad.graded, bad.finished, bad.key) == (0.0, False, False, ("", "x.zip"))
    assert bad.reason_texts() == ["an archive: unzip it"]


@pytest.mark.parametrize("line", ["", "{", '{"path": "x"}', '{"path": "x", "tests": [{"status": "maybe"}]}'])
def test_a_bad_line_raises_one_of_the_errors_the_store_skips(line):
    with pytest.raises((ValueError, KeyError, TypeError)):
        results.from_json(line)


def test_a_file_of_another_notebook_than_nearly_all_its_folder_is_flagged():
    folder = [FileResult(f"{i}.ipynb", assignment="01_bptt_by_hand") for i in range(5)]
    stray = FileResult("x.ipynb", assignment="02_imdb_gradient_probe", flags=("thread",))
    (flagged,) = results.other_notebooks([*folder, stray, results.ungradable("junk.txt", "not a notebook")])
    assert flagged.path == "x.ipynb" and flagged.flags == ("other-notebook", "thread")
    assert flagged.reasons[-1].kind is ReasonKind.HANDED_IN
    assert "5 of the 6 files in this folder are 01_bptt_by_hand" in flagged.reasons[-1].text
    other = FileResult("y.ipynb", assignment="03_rnn_vs_lstm_sweep")
    assert results.other_notebooks([*folder[:2], stray, other]) == []  # 2 of 4: a folder of several notebooks
    assert results.other_notebooks(folder[:2] + [stray]) == []   # too few files to say
