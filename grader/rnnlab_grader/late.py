"""Late work: each notebook's due date and rule (``course.toml``, ``[late]``), and which files were
handed in after it: Canvas's ``_LATE_`` download name, or a modification time past the due date.

Rules, per notebook:

* ``"flag"``: a late file counts like any other; it and its student are flagged with the reason;
* ``"on-time"``: a student's on-time file counts before any late one (a late file counts only when
  there is no on-time file), flagged as well;
* ``penalty = 0.1``: a late counted file's autograded points are multiplied by 0.9 in the
  per-student table and the LMS files (the by-file table keeps the points the file earned).

Lateness is worked out afresh from the store on every run, so a changed due date takes effect at
once; nothing about it is kept in a result.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from .identity import canvas_late
from .releases import CourseSettingsError, course_settings
from .results import FileResult, flagged_with

LATE = "late"
RULES = ("flag", "on-time", "penalty")


class LateSettingsError(CourseSettingsError):
    """``course.toml``'s ``[late]`` table cannot be used; ``str(error)`` says what to fix."""


@dataclass(frozen=True)
class LateRule:
    """One notebook's due date (None: only Canvas's LATE marker tells) and what a late file gets."""

    due: datetime.datetime | None = None
    rule: str = "flag"
    penalty: float = 0.0

    def describe(self) -> str:
        if self.rule == "penalty":
            return f"{self.penalty:.0%} off its autograded points"
        return "an on-time file counts first" if self.rule == "on-time" else "counted, flagged"


def read_rules(course_toml: Path) -> dict[str, LateRule]:
    """Each notebook's ``LateRule`` from ``course.toml`` (none: every notebook flags Canvas's LATE files)."""
    late = course_settings(course_toml).get("late", {})
    return {name: _rule(name, entry) for name, entry in late.items()}


def _rule(name: str, entry) -> LateRule:
    where = f"course.toml [late] {name}"
    if not isinstance(entry, dict):
        raise LateSettingsError(f"{where}: write {{ due = 2026-10-01T23:59:00+02:00, rule = \"flag\" }}")
    due = entry.get("due")
    if due is not None and not (isinstance(due, datetime.datetime) and due.tzinfo is not None):
        raise LateSettingsError(f"{where}: due must be a date and time with its time zone, "
                                "such as 2026-10-01T23:59:00+02:00 (no quotes)")
    penalty = entry.get("penalty", 0.0)
    rule = entry.get("rule", "penalty" if "penalty" in entry else "flag")
    if rule not in RULES or not isinstance(penalty, (int, float)) or not 0 <= penalty <= 1 \
            or (rule == "penalty") != ("penalty" in entry):
        raise LateSettingsError(f"{where}: rule is \"flag\" or \"on-time\", or give penalty = 0.1 (a share of "
                                "the points, 0 to 1) alone")
    return LateRule(due, rule, float(penalty))


def is_late(result: FileResult, rule: LateRule) -> bool:
    """Canvas marked the file late, or it was last modified after the due date."""
    if canvas_late(result.path):
        return True
    return bool(rule.due and result.submitted_at is not None and result.submitted_at > rule.due.timestamp())


def mark(results: list[FileResult], rules: dict[str, LateRule]) -> list[FileResult]:
    """Every result, a late one flagged ``late`` with a reason that names the rule applied."""
    marked = []
    for result in results:
        rule = rules.get(result.assignment, LateRule())
        if result.graded and is_late(result, rule) and LATE not in result.flags:
            due = f" (due {rule.due.isoformat()})" if rule.due else ""
            result = flagged_with(result, LATE, f"handed in late{due}: {rule.describe()}")
        marked.append(result)
    return marked
