"""The instructor's summary figure (``rnnlab_grader.summary``) from typed results."""
from rnnlab_grader import summary
from rnnlab_grader.results import FileResult, TestResult, TestStatus


def result(path, *statuses, assignment="nb1"):
    tests = tuple(TestResult(f"test_{i}", status, 1.0 if status is TestStatus.PASS else 0.0, 1.0)
                  for i, status in enumerate(statuses))
    return FileResult(path, "", assignment, points=sum(t.points for t in tests), max_points=2.0, tests=tests)


def test_failure_counts_count_every_way_a_test_did_not_pass():
    results = [result("a", TestStatus.PASS, TestStatus.FAIL), result("b", TestStatus.CRASH, TestStatus.NOTRUN),
               result("c", TestStatus.PASS, TestStatus.TIMEOUT), FileResult("junk.txt")]
    assert summary.failure_counts(results) == {"nb1: test_0": (1, 3), "nb1: test_1": (3, 3)}


def test_the_figure_is_written(tmp_path):
    path = tmp_path / "summary.png"
    summary.summary_figure(path, [result("a", TestStatus.PASS, TestStatus.FAIL)], {"nb1": 2.0, "nb2": 3.0})
    assert path.read_bytes().startswith(b"\x89PNG")
