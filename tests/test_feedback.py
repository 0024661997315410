"""Feedback names what differed, and only what a student may read (``feedback``, ``reports``)."""
from rnnlab_grader import feedback, reports, verdicts

TEST_CELL = '''for name in ("W_hh", "b_y"):
    record(f"grads[{name}]", grads[name], rtol=1e-8)
### BEGIN HIDDEN TESTS
for trial in range(3):
    record(f"grads, fresh inputs {trial}", fresh(trial))
### END HIDDEN TESTS
print("done")'''


def test_a_differing_entry_travels_through_the_tests_column():
    token = reports.test_token("test_rnn_backward", verdicts.CellRecord("fail", "ValueMismatch", 2, entry="loss, acc: x"))
    assert " " not in token and token.count("=") == 1
    (outcome,) = reports.parse_tests(token)
    assert outcome == ("test_rnn_backward", "fail", "ValueMismatch", 2, "loss, acc: x")
    assert reports.parse_tests("test_a=fail:AssertionError:7 test_b=pass") == [
        ("test_a", "fail", "AssertionError", 7, ""), ("test_b", "pass", "", 0, "")]  # tokens written before


def test_feedback_names_a_visible_entry_and_never_a_hidden_one():
    visible = feedback.describe(TEST_CELL, "fail", "ValueMismatch", 2, entry="grads[b_y]")
    assert "grads[b_y]" in visible and "differs from the solution's" in visible
    hidden = feedback.describe(TEST_CELL, "fail", "ValueMismatch", 4, entry="grads, fresh inputs 1")
    assert hidden.startswith("a hidden check failed") and "fresh" not in hidden


def test_the_verdict_names_the_solutions_entry():
    expected = verdicts.CellRecord("pass", "-", 0, (verdicts.Entry("value", "grads[W_hh]", 2, 1.0, {}),
                                                     verdicts.Entry("value", "grads[b_y]", 2, 2.0, {})))
    claimed = verdicts.CellRecord("pass", "-", 0, (verdicts.Entry("value", "grads[W_hh]", 2, 1.0, {}),
                                                    verdicts.Entry("value", "grads[b_y]", 2, 0.0, {})))
    verdict = verdicts.judge(claimed, expected, verdicts.Context({}, ("Ada", "self")))
    assert (verdict.status, verdict.error, verdict.entry) == ("fail", "ValueMismatch", "grads[b_y]")
