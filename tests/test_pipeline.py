"""One file's verdicts into its typed result (``rnnlab_grader.pipeline``): test results, reasons in
words, the TODOs left as released; no sandbox needed."""
from rnnlab_grader import pipeline, verdicts
from rnnlab_grader.results import ReasonKind, TestStatus
from rnnlab_grader.sandbox import Limits, Outcome
from rnnlab_grader.submissions import PlannedCell

LIMITS = Limits(wall_s=60, cell_s=10, memory_gib=2)
CELLS = [PlannedCell(0, "student", "def f(): ...", "f", 0.0, True),
         PlannedCell(1, "test", "", "test_f", 2.0, False),
         PlannedCell(2, "student", "x = 1", "cell 2", 0.0, True),
         PlannedCell(3, "test", "", "test_g", 3.0, False),
         PlannedCell(4, "instructor", "plot()", "cell 4", 0.0, False)]


def report(*records):
    run = verdicts.RunReport()
    for index, record in records:
        run.cells[index] = [record]
    return run


def test_reasons_name_each_cell_and_the_run():
    verdict = {0: verdicts.CellRecord("pass", "-"), 1: verdicts.CellRecord("fail", "AssertionError", 3),
               2: verdicts.CellRecord("fail", "MemoryError"), 3: None, 4: None}
    run = report(*((i, r) for i, r in verdict.items() if r is not None))
    reasons = pipeline.run_reasons(CELLS, verdict, run, Outcome(1, b"", b"", False, 1.0), [], LIMITS)
    assert [(r.kind, r.text) for r in reasons] == [
        (ReasonKind.CELL, "test_f failed"),
        (ReasonKind.CELL, "cell 2: MemoryError (over the 2 GiB memory limit)"),
        (ReasonKind.CELL, "test_g failed (did not run)"),
        (ReasonKind.NOTEBOOK, "the notebook's process ended early after cell 2 (an exit call, a crash or a limit); "
                              "later cells did not run")]
    timed_out = pipeline.run_reasons(CELLS, verdict, run, Outcome(None, b"", b"", True, 60.0), [CELLS[4]], LIMITS)
    assert timed_out[-1].text == "stopped at the 60 s limit for a whole notebook"
    assert "cell 4: the process ended in it" in timed_out[-2].text


def test_a_test_earns_its_points_only_when_it_passed():
    test = CELLS[3]
    assert pipeline.test_result(test, verdicts.CellRecord("pass", "-"), False).points == 3.0
    timeout = pipeline.test_result(test, verdicts.CellRecord("timeout", "CellTimeout"), False)
    assert (timeout.status, timeout.points, timeout.max_points) == (TestStatus.TIMEOUT, 0.0, 3.0)
    assert pipeline.test_result(test, verdicts.CellRecord("pass", "-"), True).status is TestStatus.CRASH


def test_a_missing_reference_fails_the_test_and_other_cells_are_taken_as_they_ran():
    reference = pipeline.Reference("nb1", 7, {})
    context = verdicts.Context({}, ("Ada", "self"))
    passed = verdicts.CellRecord("pass", "-")
    assert pipeline.judged(CELLS[1], passed, reference, context).error == "NoReference"
    assert pipeline.judged(CELLS[0], passed, reference, context) is passed
    assert pipeline.judged(CELLS[1], None, reference, context) is None


def test_a_solution_runs_once_when_its_first_file_comes_and_a_failure_stays(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from rnnlab_grader.releases import Release
    from rnnlab_grader.sandbox import Sandbox

    calls = []

    def fake_reference(release, sandbox, seed, threads):
        calls.append(release.assignment)
        if release.assignment == "broken":
            raise pipeline.ReferenceFailed("broken: the solution's own run fails test_x")
        return pipeline.Reference(release.assignment, seed, {})

    monkeypatch.setattr(pipeline, "reference_in_own_slot", fake_reference)
    releases = [Release(name, name, None, None, 5.0) for name in ("nb1", "nb2", "broken")]
    references = pipeline.References(releases, Sandbox([]), threads=1, seed=42)
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda _: references["nb1"], range(8)))
    assert calls == ["nb1"] and {r.seed for r in found} == {42} and len({id(r) for r in found}) == 1
    for _ in range(2):
        try:
            references["broken"]
            raise AssertionError("a failed reference must fail its files")
        except pipeline.ReferenceFailed as error:
            assert "test_x" in str(error)
    assert calls == ["nb1", "broken"] and sorted(references) == ["broken", "nb1", "nb2"]
