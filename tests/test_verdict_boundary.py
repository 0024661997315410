"""The verdict no submission can reach: attacks that own the whole interpreter the answers run in.

Code in an answer cell can walk the call stack (``f_back``, ``f_locals``: no audit event) from
its own frame into the test that calls it and into the runner; it can start raw threads, build
classes at run time and write anything on the report pipe. None of that may change a grade: the
grader judges each test by comparing what the student's run *claims* with the solution's own run
in another sandbox (``verdicts.judge``), in a process where no submission code ran. Each attack
below is asserted to earn exactly what its real answers earn; flags are hints and are not
asserted (a submission may suppress them). One grading run of the tiny course covers them all.
"""
import csv
from pathlib import Path

import nbformat
import pytest

from tiny_course import MAX, blank, make_course, perfect, run_grader, with_answer, with_cell

pytestmark = pytest.mark.slow

# The runner's main frame, found from wherever the attack runs: the frame whose locals hold the plan.
FIND_RUNNER = '''import sys as _s
def _runner_frame():
    frame = _s._getframe()
    while frame is not None and "plan" not in frame.f_locals:
        frame = frame.f_back
    return frame
'''
# Rewrite every test the runner is about to run to `pass`, and empty its flags (the attack).
REWRITE_TESTS = FIND_RUNNER + '''state = _runner_frame().f_locals
for step in state["plan"]["cells"]:
    if step["kind"] == "test":
        step["source"] = "pass"
state["flags"].clear()
your_name, your_partner_name = "Mallory", "self"'''
# Claim a pass for every test with the runner's own emit, then end the process before the real run.
FORGE_CLAIMS = FIND_RUNNER + '''import os
state = _runner_frame().f_locals
for step in state["plan"]["cells"]:
    if step["kind"] == "test":
        records = [{"kind": "value", "name": n, "line": 1, "value": v, "options": {"rtol": 1.0}}
                   for n, v in (("square(3)", 9), ("add(2, 3)", 5))]
        state["emit"]({"t": "cell", "index": step["index"], "status": "pass", "error": "-", "line": 0,
                       "records": records})
state["emit"]({"t": "end"})
os._exit(0)'''
# An answer that rewrites the test calling it (its expected value, its builtins, its record()) and
# hard-codes the visible case.
POISON_TEST = '''import sys
def add(a, b):
    if (a, b) == (2, 3):
        return 5
    test = sys._getframe(1)
    test.f_globals["expected"] = 0
    test.f_builtins["isinstance"] = lambda *args: True
    test.f_globals["record"] = lambda name, value, **options: value
    return 0'''
# Equal to everything, with its class and method names built at run time (no name the scan knows).
RUNTIME_LIAR = '''_m = "__" + "".join(["e", "q"]) + "__"
Liar = type("L" + "iar", (float,), {_m: lambda self, other: True, "__hash__": lambda self: 0})
def square(x):
    return Liar(0.0)
def add(a, b):
    return Liar(0.0)'''
# A raw thread (invisible to threading.enumerate) that keeps math.isclose saying yes while tests run.
RAW_THREAD = '''import _thread, math, time
def _keep():
    while True:
        vars(math)["isclose"] = lambda *args, **kwargs: True
        time.sleep(0.0005)
_thread.start_new_thread(_keep, ())
def square(x):
    return 0'''
# Answers that replay values recorded once (the visible inputs and last run's hidden ones).
REPLAY_SQUARE = "def square(x):\n    return {3: 9, -1.5: 2.25, 2: 4}.get(x, 0)"
REPLAY_ADD = "def add(a, b):\n    return {(2, 3): 5, (0.5, 0.25): 0.75}.get((a, b), 0)"
# Search this process for the instructor's references or any expected value; exit if found.
SEARCH_MEMORY = FIND_RUNNER + '''import os, sys
found = any(name.startswith("rnnlab_reference") and getattr(module, "__file__", None)
            for name, module in list(sys.modules.items()))
frame = _runner_frame()
state = frame.f_locals
found = found or "reference" in state.get("plan", {}) or "key" in state or "references" in state
for root in sys.path:
    found = found or os.path.exists(os.path.join(root, "rnnlab_reference", "probes.py"))
if found:
    os._exit(7)'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    work = tmp_path_factory.mktemp("boundary")
    course = make_course(work / "course")
    folder, out = work / "submitted", work / "grades.csv"
    folder.mkdir()
    notebooks = {
        "perfect": perfect(),
        "rewrite-tests": with_answer(blank(), "pair_names", REWRITE_TESTS),
        "forge-claims": with_answer(blank(), "pair_names", FORGE_CLAIMS),
        "poison-test": with_cell(with_answer(perfect(), "add", "raise NotImplementedError"), POISON_TEST, after="add"),
        "runtime-liar": with_answer(with_answer(perfect(), "square", RUNTIME_LIAR), "add", "pass"),
        "raw-thread": with_cell(perfect(), RAW_THREAD, after="square"),
        "replay": with_answer(with_answer(perfect(), "square", REPLAY_SQUARE), "add", REPLAY_ADD),
        "search-memory": with_cell(perfect(), SEARCH_MEMORY, after=None),
    }
    for name, notebook in notebooks.items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    done = run_grader(folder, course, out, "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    return {Path(r["submission"]).stem: r for r in csv.DictReader(out.open(newline=""))}


# attack -> the points its real answers earn (pair 1, square 2, add 2)
EARNED = {
    "perfect": MAX,
    "rewrite-tests": 1.0,   # a blank notebook with real names: only the pair test, decided from its source
    "forge-claims": 0.0,    # no names in quotes, and no value it claims matches the solution's fresh ones
    "poison-test": 3.0,     # add is wrong whatever the test it runs in says
    "runtime-liar": 1.0,    # neither answer can be recorded as a number
    "raw-thread": 3.0,      # square is wrong: patching the test's own asserts changes nothing
    "replay": 1.0,          # the hidden tests draw fresh inputs every run
    "search-memory": MAX,   # found nothing (else it would have ended the process and lost every test)
}


@pytest.mark.parametrize("attack", sorted(EARNED))
def test_an_attack_earns_exactly_what_its_answers_earn(graded, attack):
    record = graded[attack]
    assert float(record["total"]) == EARNED[attack], record["reason"]


def test_nothing_of_the_verdict_is_in_the_students_process(graded):
    assert "process ended" not in graded["search-memory"]["reason"], graded["search-memory"]["reason"]
