"""Each student's standing on the course: one typed row per student (``StudentRow``), from the
credits (``credits.credit``) and, once formgrader holds them, the hand grades
(``gradebook.hand_scores``). The per-student table and the LMS files are written from these rows
(``tables``, ``lms``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .credits import Credits
from .gradebook import HandScore
from .late import LATE
from .roster import Student


@dataclass(frozen=True)
class StudentRow:
    """One student (or one file credited to nobody: ``student`` None, ``label`` names the file).
    ``auto``/``written``: per assignment, the counted file's autograded points and the hand-graded
    points so far (None: nothing counts, or no written answers)."""

    student: Student | None
    label: str
    auto: Mapping[str, float | None]
    written: Mapping[str, float | None]
    total: float
    max_total: float
    flagged: bool
    notes: tuple[str, ...]
    files: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.student.id if self.student is not None else ""

    def points(self, assignment: str) -> float | None:
        """Autograded plus hand-graded points on one assignment; None when neither exists."""
        auto, written = self.auto.get(assignment), self.written.get(assignment)
        if auto is None and written is None:
            return None
        return (auto or 0.0) + (written or 0.0)


def _similar_notes(credits: Credits) -> dict[str, list[str]]:
    """Student id -> a note per file of theirs the similarity report lists (a flag, points unchanged)."""
    similar: dict[str, list[str]] = {}
    for result, claim in credits.authorships:
        if result.similar and claim.submitter:
            others = "; ".join(f"{s.path} ({s.score:.2f})" for s in result.similar)
            similar.setdefault(claim.submitter, []).append(
                f"{result.assignment}: {result.path} is similar to {others} (see the similarity report)")
    return similar


def why_nothing(student: Student, assignment: str, credits: Credits) -> list[str]:
    """Why no file counts for ``student`` on ``assignment`` (nothing when no file of it was graded
    at all): no file handed in, files nobody could be identified with, a partner's one-sided claim."""
    graded = [r for r, _ in credits.authorships if r.assignment == assignment]
    if not graded:
        return []
    entry = credits.by_student.get((student.id, assignment))
    partners = [credits.people.students[p].name for p in (entry.partners if entry else ())]
    why = [f"{assignment}: no file counts: " + (f"neither you nor {' nor '.join(partners)} handed one in"
                                                 if partners else "you handed in no file we could identify as yours")]
    unidentified = [r.path for r, _ in credits.unidentified if r.assignment == assignment]
    if unidentified:
        why.append(f"{assignment}: {len(unidentified)} file(s) could be credited to nobody (see their rows): "
                   "check whether one is yours")
    claimants = sorted({credits.people.students[c.submitter].name for r, c in credits.authorships
                        if r.assignment == assignment and c.partner == student.id and c.submitter is not None})
    if claimants:
        why.append(f"{assignment}: {', '.join(claimants)} named you as partner, but no file of yours names them "
                   "back: a pair counts when both confirm it")
    return why


def _student_row(student: Student, credits: Credits, assignments: list[str], maximum: float,
                 hand: Mapping[tuple[str, str], HandScore] | None, similar: list[str],
                 penalties: Mapping[str, float]) -> StudentRow:
    auto: dict[str, float | None] = {}
    written: dict[str, float | None] = {}
    notes, files, flagged = [], [], bool(similar)
    for a in assignments:
        entry = credits.by_student.get((student.id, a))
        auto[a] = written[a] = None
        if entry is not None:
            notes += entry.notes
            flagged |= entry.flagged
        if entry is None or entry.result is None:
            notes += why_nothing(student, a, credits)
            continue
        auto[a] = entry.result.points
        files.append(entry.result.path)
        score = (hand or {}).get((entry.unit, a))
        if hand is not None and score is not None:
            auto[a] = score.auto
            written[a] = score.written if score.of else None
            if score.of and score.graded < score.of:
                notes.append(f"{a}: written answers {score.graded} of {score.of} graded")
        if penalties.get(a) and LATE in entry.result.flags:
            before, auto[a] = auto[a], round(auto[a] * (1 - penalties[a]), 6)
            notes.append(f"{a}: handed in late: {before:g} autograded points less {penalties[a]:.0%} = {auto[a]:g}")
    total = sum((auto[a] or 0.0) + (written[a] or 0.0) for a in assignments)
    return StudentRow(student, student.name, auto, written, total, maximum, flagged,
                      tuple(dict.fromkeys(notes + similar)), tuple(sorted(set(files))))


def student_rows(credits: Credits, assignments: list[str], max_points: Mapping[str, float],
                 hand: Mapping[tuple[str, str], HandScore] | None = None,
                 written_max: Mapping[str, float] | None = None,
                 penalties: Mapping[str, float] | None = None) -> list[StudentRow]:
    """One row per student (``credits.credit``): per assignment the counted file's points. With
    ``hand`` (keyed by gradebook entry and assignment), a notebook's autograded points are the
    gradebook's (formgrader's overrides win) and ``written`` holds the hand-graded points so far, with
    a note "k of n graded" until all are; ``max_total`` adds ``written_max``. ``penalties``: per
    assignment, the share a late counted file loses (``late``). Files nobody can be credited with get
    a flagged row each, so no points go missing."""
    maximum = sum(max_points.get(a, 0) + (written_max or {}).get(a, 0) for a in assignments)
    similar = _similar_notes(credits)
    rows = [_student_row(s, credits, assignments, maximum, hand, similar.get(s.id, []), penalties or {})
            for s in credits.students()]
    for result, claim in credits.unidentified:
        rows.append(StudentRow(None, f"(unidentified) {result.path}", {result.assignment: result.points}, {},
                               result.points, maximum, True,
                               tuple(f"{result.assignment}: {n}" for n in claim.notes), (result.path,)))
    return rows


def left_to_grade(credits: Credits, assignment: str, hand: Mapping[tuple[str, str], HandScore] | None,
                  written_max: float) -> tuple[int, int]:
    """(counted entries whose written answers are not all graded yet, counted entries) for one
    assignment: hand grading is complete, and its grades final, when the first is 0 and the second
    is not. An assignment without written answers is complete once graded; without the gradebook
    (``hand`` None) nothing hand-graded is known."""
    units = {c.unit for (_, a), c in credits.by_student.items() if a == assignment and c.result is not None}
    if not written_max:
        return 0, len(units)
    scores = [(hand or {}).get((unit, assignment)) for unit in units]
    return sum(1 for s in scores if s is None or s.graded < s.of), len(units)
