"""Feedback for students: one HTML page per student and notebook (``--feedback FOLDER``).

Each page lists every autograded test with its points. A visible test that failed shows the
line it failed on, or that assert's message, *as the release writes it*: the runner reports only
the failing line's number (``verdicts.CellRecord.line``) and the text is read here from the
release, so nothing a submission prints or raises reaches a page. A hidden test shows its name,
its points and whether it passed, never its code: a line inside a hidden block is reported as
"a hidden check failed". Reasons the grader gave (a restored cell, a time limit) are shown;
tampering flags are not (the page says the notebook is marked for review).

Pages are written under ``feedback/<student>/<assignment>.html``; the folder name is the
student's name made safe for a path plus a short hash, so two names never share a folder.
"""
from __future__ import annotations

import ast
import html
import re
from pathlib import Path

from .cells import is_test, nbgrader_meta
from .reports import folder_name, parse_tests, student_choices
from .submissions import HIDDEN_MARKERS, Release

# Verdicts the grader reached by comparing with the solution's run (``verdicts.judge``), in words.
MEANING = {
    "ValueMismatch": "the value recorded here differs from the solution's",
    "ValueMissing": "the test stopped before recording this value",
    "ValueExtra": "the test recorded more values than the solution's run",
    "SourceCheck": "your code uses what this check rules out",
    "DefinitionNotFound": "no definition of the function this check reads was found in your cells",
    "PairNames": "write both names in quotes in the pair cell",
}
MARKER_LINE = re.compile(r"^[ \t]*### (BEGIN|END) HIDDEN TESTS[ \t]*$")


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
        if isinstance(statement.msg, ast.Constant) and isinstance(statement.msg.value, str):
            return statement.msg.value
        return ast.get_source_segment(source, statement.msg)
    text = ast.get_source_segment(source, statement)
    called = [node.args[0].id for node in ast.walk(statement) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Name) and node.func.id == "expect_implemented"
              and node.args and isinstance(node.args[0], ast.Name)]
    if called:  # the course's helper: its failure usually means the TODO is still the stub
        text += f" (if {called[0]}() is not written yet: write it in its TODO cell, run that cell, then this test)"
    return text


def _tests_of(release: Release) -> dict[str, tuple[str, float, bool]]:
    """grade_id -> (solution source, points, has a hidden part) for each autograded test cell."""
    tests = {}
    for cell in release.solution.cells:
        meta = nbgrader_meta(cell)
        if is_test(cell) and cell.cell_type == "code":
            tests[meta["grade_id"]] = (cell.source, float(meta.get("points", 0)),
                                       bool(HIDDEN_MARKERS.search(cell.source)))
    return tests


def describe(source: str, status: str, error: str, line: int) -> str:
    """One test's outcome in words a student can act on (never hidden code); ``source`` is the test
    cell as the solution holds it (hidden markers included)."""
    if status == "pass":
        return "passed"
    if status == "timeout":
        return "ran past the time limit for one cell"
    if status == "notrun":
        return "did not run: the notebook stopped before this test"
    if status == "crash":
        return "the notebook's process ended in this test (an exit call, a crash or a limit)"
    message = visible_message(source, line) if line else None
    if message is not None and error in MEANING:
        return f"failed: {MEANING[error]}: {message}"
    if message is not None:
        return f"failed ({error}): {message}"
    hidden = line and 1 <= line <= len(lines := test_lines(source)) and lines[line - 1][1]
    return f"a hidden check failed ({error})" if hidden else f"failed ({error})"


def page(student: str, record: dict, release: Release) -> str:
    """The HTML feedback page of one student for one graded file (``record``: a per-file CSV row)."""
    tests = _tests_of(release)
    rows = []
    for grade_id, status, error, line in parse_tests(record.get("tests", "")):
        source, points, has_hidden = tests.get(grade_id, ("", 0.0, False))
        earned = points if status == "pass" else 0.0
        rows.append(f"<tr class='{'pass' if status == 'pass' else 'fail'}'><td>{html.escape(grade_id)}</td>"
                    f"<td>{'visible + hidden' if has_hidden else 'visible'}</td><td>{earned:g} / {points:g}</td>"
                    f"<td>{html.escape(describe(source, status, error, line))}</td></tr>")
    reasons = [r for r in record.get("reason", "").split("; ") if r and not r.startswith("FLAGGED")]
    review = "<p><b>This notebook is marked for review by the instructor.</b></p>" \
        if record.get("flagged") == "FLAGGED" else ""
    title = f"{release.assignment}: feedback for {student}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}} td,th{{padding:.3em .6em;text-align:left}}
tr.pass td:nth-child(3){{color:#1a7f37}} tr.fail td:nth-child(3){{color:#cf222e}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>File <code>{html.escape(record.get("submission", ""))}</code>, graded with partner names
<b>{html.escape(record.get("your_name", ""))}</b> and <b>{html.escape(record.get("your_partner_name", ""))}</b>.</p>
<p>Autograded points: <b>{html.escape(record.get("total", "0"))} / {html.escape(record.get("max_total", "0"))}</b>.
Written answers are graded by hand and are not included here.</p>
{review}{"<ul>" + "".join(f"<li>{html.escape(r)}</li>" for r in reasons) + "</ul>" if reasons else ""}
<table><tr><th>test</th><th>kind</th><th>points</th><th>result</th></tr>
{chr(10).join(rows)}
</table>
<p>Hidden tests are shown by name and points only.</p>
</body></html>
"""


def write_feedback(folder: Path, records: list[dict], releases: list[Release]) -> int:
    """Write every student's page for every notebook they were credited for; returns the count."""
    by_assignment = {r.assignment: r for r in releases}
    written = 0
    for student, assignment, record in student_choices(records, list(by_assignment)):
        try:  # one page's failure costs that page only
            path = folder / folder_name(student) / f"{assignment}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page(student, record, by_assignment[assignment]), encoding="utf-8")
        except (OSError, ValueError, UnicodeError, KeyError):
            continue
        written += 1
    return written
