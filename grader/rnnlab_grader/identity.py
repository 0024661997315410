"""Who handed in a file, and who their partner is: a roster, typed names matched to it, the
names LMSs give downloaded files, and ids that cannot collide.

* **The roster** (``--roster``; ``roster.read_roster``: the course's CSV, or Canvas's or Moodle's
  own export; else the students of the course's nbgrader gradebook) names every student.
* **Typed names** (``your_name`` and ``your_partner_name`` of the pair cell) are matched to the
  roster case-, accent- and spacing-blind, first-last or last-first, or by email or login; a small
  typo is forgiven when exactly one student is that close. A name that matches nobody, or two
  students equally, is *unmatched*: flagged and listed, never credited to anyone.
* **File names** written by an LMS identify the submitter, whatever the notebook says: Canvas's
  ``<login>_<userid>_<fileid>_<file>`` (``_LATE_`` allowed) at the top level of the download by
  its user id, Moodle's ``<Full Name>_<participant>_assignsubmission_file`` folder (or, without
  folders, file prefix) by its participant number when a grading worksheet gave it
  (``roster.add_worksheets``), else by the full name when one student has it. Inside a Moodle
  folder the folder decides: the upload's own name is the student's choice and never names anyone.
* **Ids** are roster ids (checked to be path-safe and unique), or without a roster the typed name
  itself in an injective, path-safe spelling (``typed.ada-lovelace``): two different names never
  share a folder, a gradebook entry or a row. Nothing is a hash of what a student typed.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .results import FileResult
from .roster import Student

TYPED_PREFIX = "typed."
FUZZY_MIN, FUZZY_MARGIN = 0.85, 0.05
# Canvas: <sortable name lowercased, non-word characters removed>[_LATE]_<user id>_<file id>_<name>
# (lib/content_zipper.rb); the name part may hold any Unicode letter.
CANVAS_FILE = re.compile(r"(?P<login>[^\W_][\w-]*?)_(?P<late>late_)?(?P<user>\d+)_(?P<submission>\d+)_.+", re.I)
# Moodle: <Full name>_<participant>_assignsubmission_file (4.1 and later; earlier with a trailing "_"), where the
# participant number is the assignment's own (mod/assign/locallib.php, get_uniqueid_for_user)
MOODLE_PART = re.compile(r"(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_(?:file|onlinetext)(?:_.*)?", re.I)


def canvas_late(relative: str) -> bool:
    """Whether Canvas marked a file of its download late (``<login>_LATE_<user>_<file>_<name>``, top level)."""
    parts = Path(relative).parts
    match = CANVAS_FILE.fullmatch(parts[0]) if len(parts) == 1 else None
    return bool(match and match["late"])


def name_key(text: str) -> str:
    """``text`` as it is compared: accents dropped, case folded, punctuation and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def typed_key(text: str) -> str:
    """A typed name as the no-roster registry keys it: case and spacing ignored, nothing else."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def spelled_id(key: str) -> str:
    """An injective, path-safe spelling of ``key``: ``a-z``, ``0-9`` kept, a space is ``-``, any
    other character ``_<hex>_``. Two different keys never give the same id."""
    out = []
    for ch in key:
        if "a" <= ch <= "z" or "0" <= ch <= "9":
            out.append(ch)
        elif ch == " ":
            out.append("-")
        else:
            out.append(f"_{ord(ch):x}_")
    return "".join(out)


@dataclass
class NameMatch:
    """A typed name resolved: the student, or None with the reason; ``note``: something a person
    should look at even though the student was found (flagged)."""

    student: Student | None
    problem: str = ""
    note: str = ""
    candidates: tuple[str, ...] = ()  # a name that matches several students exactly: their ids


class People:
    """The roster, or the registry of typed names when there is none (``roster=None``)."""

    def __init__(self, roster: list[Student] | None):
        self.roster = roster is not None
        self.students: dict[str, Student] = {s.id: s for s in roster or []}
        self._by_key: dict[str, list[Student]] = {}
        self._by_canvas = {s.canvas_id: s for s in roster or [] if s.canvas_id}
        self._by_participant = {p: s for s in roster or [] for p in s.moodle_participants}
        for student in roster or []:
            keys = {name_key(f"{student.first_name} {student.last_name}"),
                    name_key(f"{student.last_name} {student.first_name}"),
                    name_key(student.id)}
            for other in (student.email, student.sis_login_id, student.moodle_id):
                if other:
                    keys.add(name_key(other))
                    if "@" in other and len(other.split("@")[0]) >= 3:
                        keys.add(name_key(other.split("@")[0]))
            for key in keys - {""}:
                self._by_key.setdefault(key, []).append(student)

    def match(self, typed: str) -> NameMatch:
        """The student a typed name means (with a roster: the matching rules above)."""
        if not typed.strip():
            return NameMatch(None, "no name written")
        if not self.roster:
            key = typed_key(typed)
            ident = TYPED_PREFIX + spelled_id(key)
            if len(ident) > 200:
                return NameMatch(None, "the name is too long to be told apart from others")
            student = self.students.setdefault(ident, Student(ident, " ".join(typed.split()), typed=True))
            return NameMatch(student)
        key = name_key(typed)
        exact = {s.id: s for s in self._by_key.get(key, [])}
        if len(exact) == 1:
            return NameMatch(next(iter(exact.values())))
        if len(exact) > 1:
            return NameMatch(None, f"matches {len(exact)} students of the roster ({', '.join(sorted(exact))})",
                             candidates=tuple(sorted(exact)))
        scores: dict[str, float] = {}
        for candidate, owners in self._by_key.items():
            ratio = difflib.SequenceMatcher(None, key, candidate, autojunk=False).ratio()
            for owner in owners:
                scores[owner.id] = max(scores.get(owner.id, 0.0), ratio)
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        if ranked and ranked[0][1] >= FUZZY_MIN and (len(ranked) == 1 or ranked[1][1] < ranked[0][1] - FUZZY_MARGIN):
            return NameMatch(self.students[ranked[0][0]])
        if ranked and ranked[0][1] >= FUZZY_MIN:
            return NameMatch(None, "close to more than one student of the roster")
        return NameMatch(None, "not on the roster")

    def from_file_name(self, relative: str) -> NameMatch | None:
        """The submitter an LMS's download names in ``relative`` (a path under the submissions
        folder), or None when it follows neither layout (or there is no roster).

        The LMS decides, never a name the student chose: in a Moodle download with a folder per
        student the folder (Moodle made it) decides, whatever the uploaded file is called; the
        Canvas pattern is read only from files at the top level (Canvas names every file of its
        download; a name inside a folder is the student's own upload name). A file whose own name
        says someone else than its folder is counted for the folder's owner and flagged."""
        if not self.roster:
            return None
        parts = Path(relative).parts
        folders = [part for part in parts[:-1] if MOODLE_PART.fullmatch(part)]
        if folders:
            found = self._moodle(folders[-1])
            named = self._named_by_file(parts[-1])
            if found.student is not None and named is not None and named.student is not found.student:
                who = named.student.name if named.student is not None else "someone else"
                found.note = (f"the file's own name {parts[-1]!r} says {who}, but it is in {found.student.name}'s "
                              "Moodle folder: counted for the folder's owner only")
            return found
        if len(parts) == 1:
            return self._named_by_file(parts[0])
        return None

    def _named_by_file(self, name: str) -> NameMatch | None:
        """The student a top-level file name of Canvas or Moodle (files without folders) names."""
        canvas = CANVAS_FILE.fullmatch(name)
        if canvas:
            student = self._by_canvas.get(canvas["user"])
            return NameMatch(student, "" if student else f"Canvas user {canvas['user']} is not on the roster")
        if MOODLE_PART.fullmatch(name):
            return self._moodle(name)
        return None

    def _moodle(self, part: str) -> NameMatch:
        """The student a Moodle folder (or file prefix) names: by its participant number, else by
        the full name when exactly one student of the roster has it."""
        moodle = MOODLE_PART.fullmatch(part)
        if moodle["participant"] in self._by_participant:
            return NameMatch(self._by_participant[moodle["participant"]])
        exact = {s.id: s for s in self._by_key.get(name_key(moodle["name"]), [])}
        if len(exact) == 1:
            return NameMatch(next(iter(exact.values())))
        if not exact:
            return NameMatch(None, "the Moodle folder's name is not on the roster")
        return NameMatch(None, f"the Moodle folder's name is shared by {len(exact)} students of the roster "
                               f"({', '.join(sorted(exact))}) and its participant number "
                               f"{moodle['participant']} is in no grading worksheet given (pass the assignment's "
                               "grading worksheet from Moodle: WORKSHEETS=<file.csv>)")


@dataclass
class Authorship:
    """What one graded file says about who made it."""

    submitter: str | None          # a student id, or None (unidentified)
    partner: str | None            # a student id, "self", or None (no partner named or unmatched)
    notes: list[str] = field(default_factory=list)
    partner_candidates: tuple[str, ...] = ()  # a partner's name several students share: who it may mean


def authorship(result: FileResult, people: People) -> Authorship:
    """Resolve one graded file: its submitter and the partner it names. When an LMS's file
    name identifies the submitter, that wins over the typed ``your_name``, and the partner is the
    other student the pair cell names, in either slot (partners handing in one shared notebook
    need not swap the names); when an LMS's file name names someone the roster cannot place (not
    on it, or two students alike), the file is credited to nobody, whatever names it types;
    otherwise the submitter is ``your_name``."""
    notes = []
    by_file = people.from_file_name(result.path)
    typed_self = people.match(result.your_name)
    partner_text = result.your_partner_name
    alone = " ".join(partner_text.split()).casefold() == "self"
    typed_partner = None if alone else people.match(partner_text)
    if by_file is not None and by_file.note:
        notes.append(by_file.note)
    if by_file is not None and by_file.student is not None:
        return _lms_authorship(result, by_file.student, typed_self, typed_partner, alone, notes)
    if by_file is not None:  # the LMS names a submitter the roster cannot place: never the typed name instead
        notes.append(f"file name: {by_file.problem}: credited to nobody (the names typed in it are not who handed "
                     "it in); add the student to the roster, or check the LMS's ids in it")
        return Authorship(None, None, notes)
    submitter = typed_self.student.id if typed_self.student is not None else None
    if submitter is None:
        notes.append(f"your_name {result.your_name!r}: {typed_self.problem}")
    partner = "self" if alone else None
    if typed_partner is not None:
        if typed_partner.student is None:
            notes.append(f"your_partner_name {partner_text!r}: {typed_partner.problem}")
        elif typed_partner.student.id == submitter:
            notes.append("names the submitter as their own partner")
        else:
            partner = typed_partner.student.id
    return Authorship(submitter, partner, notes)


def _lms_authorship(result: FileResult, submitter: Student, typed_self: NameMatch, typed_partner: NameMatch | None,
                    alone: bool, notes: list[str]) -> Authorship:
    """A file whose LMS name identified ``submitter``: the partner is the other student the pair cell
    names. A typed name several students share names the submitter when the submitter is one of them
    (two John Smiths: the LMS says which one handed it in); as the partner it is left to
    ``credits`` to resolve, by which of them names the submitter back."""
    matched = [m.student.id for m in (typed_self, typed_partner) if m is not None and m.student is not None]
    shared = [m for m in (typed_self, typed_partner) if m is not None and m.candidates]
    named = matched + [submitter.id for m in shared if submitter.id in m.candidates]
    others = [n for n in dict.fromkeys(matched) if n != submitter.id]
    open_names = [m for m in shared if submitter.id not in m.candidates]
    candidates = open_names[0].candidates if len(open_names) == 1 and not others else ()
    partner = None
    if alone:
        partner = "self"
        if others:
            notes.append(f"handed in by {submitter.name} with your_name {result.your_name!r}: "
                         "credited to the LMS's submitter, working alone")
    elif len(others) == 1 and submitter.id in named:
        partner = others[0]
    elif submitter.id not in named:
        notes.append(f"handed in by {submitter.name}, whom the pair cell does not name: credited to "
                     "the LMS's submitter alone")
    for match, what in ((typed_self, "your_name"), (typed_partner, "your_partner_name")):
        if match is not None and match.student is None and not (match.candidates and (
                submitter.id in match.candidates or candidates)):
            notes.append(f"{what} {getattr(result, what)!r}: {match.problem}")
    return Authorship(submitter.id, partner, notes, candidates if submitter.id in named else ())
