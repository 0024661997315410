"""Feedback for students: one HTML page per student and notebook (``--feedback FOLDER``).

Each page lists every autograded test with its points. A visible test that failed shows the
line it failed on, or that assert's message, *as the release writes it*: the runner reports only
the failing line's number (``verdicts.CellRecord.line``) and the text is read here from the
release, so nothing a submission prints or raises reaches a page. A hidden test shows its name,
its points and whether it passed, never its code: a line inside a hidden block is reported as
"a hidden check failed". Reasons the grader gave (a restored cell, a time limit) are shown;
tampering flags are not (the page says the notebook is marked for review).

A failure that follows from another TODO left as released says so ("failed because
``gru_backward`` is not written"). Once formgrader holds hand grades, the page shows each written
answer's points and comment (pages are written again on ``RESUME=1``). The page is a Jinja2
template with autoescaping: no text from a student, the roster or a comment is markup.

Pages are written under ``feedback/<student id>/<assignment>.html`` (``identity``: roster ids, or
an injective spelling of the typed name), so two students never share a folder.
"""
from __future__ import annotations

import ast
from pathlib import Path

import jinja2

from . import templates
from .cells import HIDDEN_MARKERS, MARKER_LINE, is_test, nbgrader_meta
from .credits import Credits
from .gradebook import HandScore
from .releases import Release
from .results import FileResult, TestStatus

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


def _tests_of(release: Release) -> dict[str, tuple[str, float, bool]]:
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


FEEDBACK_PAGE = templates.get_template("feedback.html")


def page(student: str, result: FileResult, release: Release, hand: HandScore | None = None) -> str:
    """The HTML feedback page of one student for one graded file (``hand``: the gradebook's hand
    grades of its entry, when there are any)."""
    hand = hand or HandScore(result.points, tests={t.grade_id: t.points for t in result.tests})
    rows = _test_rows(result, release, hand)
    return FEEDBACK_PAGE.render(
        title=f"{release.assignment}: feedback for {student}", result=result, rows=rows, auto=f"{hand.auto:g}",
        comments=hand.comments,
        reasons=[r.text for r in result.reasons],
        review=result.flagged, written=hand.answers, graded=hand.graded,
        written_points=f"{hand.written:g}", written_max=f"{sum(a.max_score for a in hand.answers):g}")


def _test_rows(result: FileResult, release: Release, hand: HandScore) -> list[dict]:
    """One row per autograded test: its points as formgrader holds them (an instructor's change
    said so) and what happened, in words a student can act on."""
    tests, unwritten, rows = _tests_of(release), frozenset(result.unwritten), []
    for test in result.tests:
        source, points, has_hidden = tests.get(test.grade_id, ("", 0.0, False))
        earned = hand.tests.get(test.grade_id, test.points)
        changed = " (changed by the instructor)" if earned != test.points else ""
        passed = earned >= points and (points > 0 or test.status is TestStatus.PASS)
        rows.append({"css": "pass" if passed else "fail",
                     "test": test.grade_id, "kind": "visible + hidden" if has_hidden else "visible",
                     "points": f"{earned:g} / {points:g}{changed}",
                     "result": describe(source, test.status.value, test.error, test.line, unwritten, test.entry)})
    return rows


def write_feedback(folder: Path, credits: Credits, releases: list[Release], hand: dict | None = None) -> int:
    """Write every student's page for every notebook a file counts for them; returns the count.
    ``hand``: ``gradebook.hand_scores`` (per gradebook entry and assignment)."""
    by_assignment = {r.assignment: r for r in releases}
    count = 0
    for (sid, assignment), entry in sorted(credits.by_student.items()):
        if entry.result is None or assignment not in by_assignment:
            continue
        try:  # one page's failure costs that page only
            path = folder / sid / f"{assignment}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            text = page(entry.student.name, entry.result, by_assignment[assignment],
                        (hand or {}).get((entry.unit, assignment)))
            path.write_text(text, encoding="utf-8")
        except (OSError, ValueError, UnicodeError, KeyError, jinja2.TemplateError):
            continue
        count += 1
    return count
