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

from pathlib import Path

import jinja2

from . import templates
from .credits import Credits
from .explain import outcomes, tests_of
from .gradebook import HandScore
from .releases import Release
from .results import FileResult, TestStatus

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
    said so) and what happened, in words a student can act on (``explain``)."""
    tests, words, rows = tests_of(release), outcomes(result, release), []
    for test in result.tests:
        _, points, has_hidden = tests.get(test.grade_id, ("", 0.0, False))
        earned = hand.tests.get(test.grade_id, test.points)
        changed = " (changed by the instructor)" if earned != test.points else ""
        passed = earned >= points and (points > 0 or test.status is TestStatus.PASS)
        rows.append({"css": "pass" if passed else "fail",
                     "test": test.grade_id, "kind": "visible + hidden" if has_hidden else "visible",
                     "points": f"{earned:g} / {points:g}{changed}", "result": words[test.grade_id]})
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
