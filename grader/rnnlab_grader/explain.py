"""Why a test failed, in words a student can act on, and never hidden code or text a submission
produced: the runner reports only the failing line's number (``verdicts.CellRecord.line``) and the
words are read here from the release. The feedback pages (``feedback``) and formgrader's view of a
graded notebook (``gradebook``) show the same text.

A visible test that failed shows the line it failed on, or that assert's message (an f-string's
values as "…"); a line inside a hidden block is "a hidden check failed"; a failure that follows
from a TODO left as released says "failed because ``gru_backward`` is not written".
"""
from __future__ import annotations

import ast

from .cells import HIDDEN_MARKERS, MARKER_LINE, is_test, nbgrader_meta
from .releases import Release
from .results import FileResult

# Verdicts the grader reached by comparing with the solution's run (``verdicts.judge``), in words.
MEANING = {
    "ValueMismatch": "the value recorded here differs from the solution's",
    "ValueMissing": "the test stopped before recording this value",
    "ValueExtra": "the test recorded more values than the solution's run",
    "SourceCheck": "your code uses what this check rules out",
    "DefinitionNotFound": "no definition of the function this check reads was found in your cells",
    "PairNames": "write both names in quotes in the pair cell",
}


def test_lines(solution_source: str) -> list[tuple[str, bool]]:
    """The lines a test cell runs (hidden markers removed, as ``submissions.plan`` runs it), each
    with whether it is hidden."""
    lines, hidden = [], False
    for text in solution_source.split("\n"):
        if MARKER_LINE.match(text):
            hidden = "BEGIN" in text
            continue
        lines.append((text, hidden))
    return lines


def visible_message(solution_source: str, line: int) -> str | None:
    """What a student may read about a failure at ``line`` (1-based) of the test cell: the failing
    assert's message, or the failing statement, when every line of it is visible; else None."""
    lines = test_lines(solution_source)
    if not 1 <= line <= len(lines):
        return None
    source = HIDDEN_MARKERS.sub("", solution_source)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    statement = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno):
            if statement is None or node.lineno >= statement.lineno and \
                    (node.end_lineno or 0) <= (statement.end_lineno or 0):
                statement = node
    if statement is None or any(hidden for _, hidden in lines[statement.lineno - 1:statement.end_lineno]):
        return None
    if isinstance(statement, ast.Assert) and statement.msg is not None:
        return message_text(statement.msg) or ast.get_source_segment(source, statement.msg)
    text = ast.get_source_segment(source, statement)
    called = [node.args[0].id for node in ast.walk(statement) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Name) and node.func.id == "expect_implemented"
              and node.args and isinstance(node.args[0], ast.Name)]
    if called:  # the course's helper: its failure usually means the TODO is still the stub
        text += f" (if {called[0]}() is not written yet: write it in its TODO cell, run that cell, then this test)"
    return text


def message_text(node: ast.expr) -> str | None:
    """An assert message as a student reads it: a string as it is; an f-string's text with each
    value it would format shown as "…" (the values are the submission's, never shown)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "…" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = message_text(node.left), message_text(node.right)
        return None if left is None or right is None else left + right
    return None


def tests_of(release: Release) -> dict[str, tuple[str, float, bool]]:
    """grade_id -> (solution source, points, has a hidden part) for each autograded test cell."""
    tests = {}
    for cell in release.solution.cells:
        meta = nbgrader_meta(cell)
        if is_test(cell) and cell.cell_type == "code":
            tests[meta["grade_id"]] = (cell.source, float(meta.get("points", 0)),
                                       bool(HIDDEN_MARKERS.search(cell.source)))
    return tests


def _names_used(source: str) -> set[str]:
    try:
        tree = ast.parse(HIDDEN_MARKERS.sub("", source))
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def describe(source: str, status: str, error: str, line: int, unwritten: frozenset[str] = frozenset(),
             entry: str = "") -> str:
    """One test's outcome in words a student can act on (never hidden code); ``source`` is the test
    cell as the solution holds it (hidden markers included); ``unwritten``: the names whose TODO
    cells the file left as released; ``entry``: the name of the recorded value that differed,
    shown only when its line is visible (``record(f"grads[{name}]", ...)`` in a loop says which)."""
    if status == "pass":
        return "passed"
    missing = sorted(_names_used(source) & unwritten)
    if missing:
        names = ", ".join(f"`{name}`" for name in missing)
        return (f"failed because {names} {'is' if len(missing) == 1 else 'are'} not written "
                "(its TODO cell still raises NotImplementedError): write it, run its cell, then this test")
    if status == "timeout":
        return "ran past the time limit for one cell"
    if status == "notrun":
        return "did not run: the notebook stopped before this test"
    if status == "crash":
        return "the notebook's process ended in this test (an exit call, a crash or a limit)"
    message = visible_message(source, line) if line else None
    if message is not None and entry:
        message = f"{message} (the value recorded as {entry!r})"
    if message is not None and error in MEANING:
        return f"failed: {MEANING[error]}: {message}"
    if message is not None:
        return f"failed ({error}): {message}"
    hidden = line and 1 <= line <= len(lines := test_lines(source)) and lines[line - 1][1]
    return f"a hidden check failed ({error})" if hidden else f"failed ({error})"


def outcomes(result: FileResult, release: Release) -> dict[str, str]:
    """grade_id -> each autograded test's outcome in words (``describe``) for one graded file."""
    tests, unwritten = tests_of(release), frozenset(result.unwritten)
    return {test.grade_id: describe(tests.get(test.grade_id, ("",))[0], test.status.value, test.error, test.line,
                                    unwritten, test.entry)
            for test in result.tests}
