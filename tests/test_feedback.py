"""Feedback names what differed, and only what a student may read (``feedback``, ``tables``)."""
from rnnlab_grader import explain, pipeline, submissions, tables, verdicts
from rnnlab_grader.results import TestStatus
from tiny_course import hidden

TEST_CELL = '''for name in ("W_hh", "b_y"):
    record(f"grads[{name}]", grads[name], rtol=1e-8)
### BEGIN HIDDEN TESTS
for trial in range(3):
    record(f"grads, fresh inputs {trial}", fresh(trial))
### END HIDDEN TESTS
print("done")'''


def test_a_differing_entry_travels_typed_and_the_tests_column_quotes_it():
    cell = submissions.PlannedCell(3, "test", "", "test_rnn_backward", 2.0, False)
    result = pipeline.test_result(cell, verdicts.CellRecord("fail", "ValueMismatch", 2, entry="loss, acc: x"), False)
    assert (result.status, result.error, result.line, result.entry, result.points) == (
        TestStatus.FAIL, "ValueMismatch", 2, "loss, acc: x", 0.0)
    token = tables.test_token(result)
    assert token == "test_rnn_backward=fail:ValueMismatch:2:loss%2C%20acc%3A%20x" and " " not in token
    passed = pipeline.test_result(cell, verdicts.CellRecord("pass", "-"), False)
    assert (tables.test_token(passed), passed.points) == ("test_rnn_backward=pass", 2.0)
    assert tables.test_token(pipeline.test_result(cell, None, False)) == "test_rnn_backward=notrun"
    assert tables.test_token(pipeline.test_result(cell, None, True)) == "test_rnn_backward=crash"


def test_feedback_names_a_visible_entry_and_never_a_hidden_one():
    visible = explain.describe(TEST_CELL, "fail", "ValueMismatch", 2, entry="grads[b_y]")
    assert "grads[b_y]" in visible and "differs from the solution's" in visible
    hidden = explain.describe(TEST_CELL, "fail", "ValueMismatch", 4, entry="grads, fresh inputs 1")
    assert hidden.startswith("a hidden check failed") and "fresh" not in hidden


def test_the_verdict_names_the_solutions_entry():
    expected = verdicts.CellRecord("pass", "-", 0, (verdicts.Entry("value", "grads[W_hh]", 2, 1.0, {}),
                                                     verdicts.Entry("value", "grads[b_y]", 2, 2.0, {})))
    claimed = verdicts.CellRecord("pass", "-", 0, (verdicts.Entry("value", "grads[W_hh]", 2, 1.0, {}),
                                                    verdicts.Entry("value", "grads[b_y]", 2, 0.0, {})))
    verdict = verdicts.judge(claimed, expected, verdicts.Context({}, ("Ada", "self")))
    assert (verdict.status, verdict.error, verdict.entry) == ("fail", "ValueMismatch", "grads[b_y]")


def test_feedback_reads_messages_from_the_release_text_only():
    """visible_message: a visible assert gives its message, a visible call its source (with the stub hint
    for the course's expect_implemented), a hidden line or a line out of range gives nothing."""
    from rnnlab_grader.explain import visible_message

    source = ('out = expect_implemented(square, 3)\nassert out == 9, "square(3) should be 9"\n'
              + hidden("assert square(-1) == 1, 'secret'\n") + "\nassert out > 0\n")
    assert visible_message(source, 2) == "square(3) should be 9"
    assert visible_message(source, 1).startswith("out = expect_implemented(square, 3) (if square() is not written yet")
    assert visible_message(source, 3) is None and visible_message(source, 99) is None
    assert visible_message(source, 4) == "assert out > 0"
