"""Which graded file counts for which student: pairs that both sides confirm.

Every graded file has an *authorship* (``identity.authorship``): who handed it in, and whom it names as
partner. For each assignment:

* a pair is **confirmed** when each partner has a file naming the other, or the roster pairs them;
* a student's **counted file** is the best-scoring one they handed in or a confirmed partner
  handed in (the first of equals in file-name order; where the late rule is "on-time", the best
  on-time one when there is one, ``late``);
* a **one-sided claim** (naming someone whose files do not name you back) is flagged on the
  claimant and changes nothing for the student named;
* a file whose submitter cannot be told (no name, or one that matches nobody on the roster) is
  credited to nobody and listed as a flagged row of its own, so no points silently go missing.

The gradebook entry of a confirmed pair is ``<id>+<id>`` (sorted roster or registry ids, which
never contain ``+``); a student without a confirmed partner has their own id.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .identity import Authorship, People, authorship
from .late import LATE
from .results import FileResult, reason_line
from .roster import Student


@dataclass
class Credit:
    """One student's standing on one assignment."""

    student: Student
    assignment: str
    result: FileResult | None            # the counted file (None: nothing counts)
    unit: str                            # the gradebook entry: the pair's id or the student's
    partners: tuple[str, ...] = ()       # confirmed partners' ids
    notes: list[str] = field(default_factory=list)
    flagged: bool = False


@dataclass
class Credits:
    """Everything ``credit`` decided: per (student id, assignment), and the files nobody is credited with."""

    people: People
    by_student: dict[tuple[str, str], Credit]
    unidentified: list[tuple[FileResult, Authorship]]
    authorships: list[tuple[FileResult, Authorship]]

    def students(self) -> list[Student]:
        """Every student with a row: the whole roster, or everyone who handed in a file."""
        ids = {sid for sid, _ in self.by_student}
        if self.people.roster:
            ids |= set(self.people.students)
        return sorted((self.people.students[i] for i in ids),
                      key=lambda s: (s.last_name.casefold(), s.first_name.casefold(), s.id))

    def counted(self, assignment: str) -> dict[str, FileResult]:
        """gradebook entry -> the file it holds, for one assignment."""
        return {c.unit: c.result for (_, a), c in sorted(self.by_student.items())
                if a == assignment and c.result is not None}


def _name(people: People, sid: str) -> str:
    student = people.students.get(sid)
    return student.name if student else sid


def resolve_shared_names(claims: list[tuple[FileResult, Authorship]],
                         people: People) -> list[tuple[FileResult, Authorship]]:
    """A partner named by a name several students share (two John Smiths) is the one of them whose
    own file of that assignment names the claimant back; with none or several, the claim is
    unmatched and says so."""
    naming = {(r.assignment, c.submitter, c.partner) for r, c in claims if c.submitter and c.partner}
    resolved = []
    for record, claim in claims:
        if claim.partner_candidates:
            back = [c for c in claim.partner_candidates if (record.assignment, c, claim.submitter) in naming]
            if len(back) == 1:
                claim = Authorship(claim.submitter, back[0], claim.notes)
            else:
                names = " or ".join(f"{_name(people, c)} ({c})" for c in claim.partner_candidates)
                claim = Authorship(claim.submitter, None, [*claim.notes, (
                    f"your_partner_name {record.your_partner_name!r} may be {names}: "
                    + ("neither" if not back else "more than one") + " names you back in their own file")])
        resolved.append((record, claim))
    return resolved


def credit(results: list[FileResult], assignments: list[str], people: People,
           on_time_first: frozenset[str] = frozenset()) -> Credits:
    """Resolve every file's authorship and credit each student (see the module docstring);
    ``on_time_first``: assignments whose late files count only when a student has no on-time one."""
    claims = resolve_shared_names([(r, authorship(r, people)) for r in sorted(results, key=lambda r: r.path)
                                   if r.assignment in assignments], people)
    roster_pairs = {frozenset((s.id, s.partner)) for s in people.students.values() if s.partner}
    result = Credits(people, {}, [(r, c) for r, c in claims if c.submitter is None], claims)
    for assignment in assignments:
        mine = [(r, c) for r, c in claims if r.assignment == assignment and c.submitter is not None]
        files: dict[str, list[FileResult]] = {}
        named: dict[str, dict[str, str]] = {}  # submitter -> partner claimed -> the file that claims it
        notes: dict[str, list[str]] = {}
        for record, claim in mine:
            files.setdefault(claim.submitter, []).append(record)
            named.setdefault(claim.submitter, {})
            if claim.partner is not None:
                named[claim.submitter].setdefault(claim.partner, record.path)
            notes.setdefault(claim.submitter, []).extend(f"{assignment}: {n}" for n in claim.notes)
        involved = set(files) | {sid for pair in roster_pairs for sid in pair if sid in people.students}
        for sid in sorted(involved):
            claimed = named.get(sid, {})
            confirmed = sorted(p for p in (set(claimed) | {q for pair in roster_pairs if sid in pair for q in pair})
                               if p not in ("self", sid) and
                               (frozenset((sid, p)) in roster_pairs or sid in named.get(p, {})))
            student_notes = list(notes.get(sid, []))
            flagged = bool(student_notes)
            for partner, submission in sorted(claimed.items()):
                if partner == "self" or partner in confirmed:
                    continue
                flagged = True
                back = "handed in no file" if partner not in files else "does not name you back"
                student_notes.append(f"{assignment}: {submission} names {_name(people, partner)} as partner, "
                                     f"who {back}: not credited to them (confirm the pair, or put it in the roster)")
            if len(confirmed) > 1:
                flagged = True
                student_notes.append(f"{assignment}: confirmed with more than one partner "
                                     f"({', '.join(_name(people, p) for p in confirmed)})")
            if len(claimed) > 1:
                flagged = True
                student_notes.append(f"{assignment}: your files name different partners")
            candidates = [*files.get(sid, []), *(r for p in confirmed for r in files.get(p, []))]
            # the highest score; of equals, the first in file-name order (max keeps the first maximum)
            on_time = assignment in on_time_first
            best = max(sorted(candidates, key=lambda r: r.path), default=None,
                       key=lambda r: (not (on_time and LATE in r.flags), r.points))
            unit = "+".join(sorted([sid, *confirmed])) if len(confirmed) == 1 else sid
            if best is not None and best.flagged:
                flagged = True
            if best is not None and reason_line(best):
                student_notes.append(f"{assignment}: {reason_line(best)}")
            result.by_student[(sid, assignment)] = Credit(people.students[sid], assignment, best, unit,
                                                          tuple(confirmed), student_notes, flagged)
    return result
