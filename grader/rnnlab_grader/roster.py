"""The class list: who the students are, read from the file an instructor has at hand.

``read_roster`` takes any of these, told apart by their header:

* **the course's own CSV**: ``id``, ``first_name``, ``last_name`` and optionally ``email``,
  ``section``, ``canvas_id`` (Canvas's user id), ``sis_user_id``, ``sis_login_id``, ``moodle_id``
  (Moodle's "ID number") and ``partner`` (the partner's roster id, for pairs the instructor set).
  Headers are matched case-blind, with the usual aliases;
* **Canvas's gradebook export** (Grades > Export > CSV): ``Student`` ("Last, First"), ``ID``,
  ``SIS User ID``, ``SIS Login ID``, ``Section``. Its "Points Possible" row and Canvas's test
  student are skipped; the roster id is the SIS login, else the SIS user id, else ``canvas-<ID>``;
* **Moodle's grade export** (Grades > Export > Plain text file): ``First name``, ``Last name``,
  ``ID number``, ``Email address``; the roster id is the ID number, else the email;
* **Moodle's grading worksheet** of an assignment (the assignment's "Download grading
  worksheet"): ``Identifier`` ("Participant 4411"), ``Full name``, ``Email address``. Its
  participant numbers are the ones Moodle writes into the folder names of that assignment's
  download, so they tell apart two students of one name.

``add_worksheets`` gives the students of any roster the participant numbers of Moodle's grading
worksheets (matched by email, else ID number), one worksheet per assignment.

UTF-8 (with or without Excel's BOM) and Windows-1252 are read; the delimiter is the one of ``,``
``;`` and tab the header holds most of.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import re
from dataclasses import dataclass
from pathlib import Path

ROSTER_ENCODINGS = ("utf-8-sig", "cp1252")
ROSTER_DELIMITERS = (",", ";", "\t")
ROSTER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
ALIASES = {
    "id": ("id", "student_id", "studentid", "student id", "username", "user"),
    "first_name": ("first_name", "first name", "firstname", "given name", "given_name"),
    "last_name": ("last_name", "last name", "lastname", "surname", "family name", "family_name"),
    "email": ("email", "email address", "e-mail", "mail"),
    "section": ("section",),
    "canvas_id": ("canvas_id", "canvas id", "lms_user_id", "canvas user id"),
    "sis_user_id": ("sis_user_id", "sis user id"),
    "sis_login_id": ("sis_login_id", "sis login id", "login", "login_id"),
    "moodle_id": ("moodle_id", "id number", "idnumber", "id_number"),
    "partner": ("partner", "partner_id", "partner id"),
}
PARTICIPANT = re.compile(r"\D*(\d+)\s*")  # Moodle's "Participant 4411" (the word is translated)
CANVAS_TEST_STUDENT = "student, test"
GRADER_ENTRY = "rnnlab:pair"  # the lms_user_id of gradebook entries this grader made (pairs, typed names)


class RosterError(ValueError):
    """The roster file cannot be used; ``str(error)`` says which line and what to fix."""


@dataclass(frozen=True)
class Student:
    """One student of the roster (or, without one, of the names typed in the pair cells).
    ``moodle_participants``: the numbers Moodle's downloads name them by (one per assignment)."""

    id: str
    first_name: str
    last_name: str = ""
    email: str = ""
    section: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    moodle_id: str = ""
    partner: str = ""
    typed: bool = False  # no roster: the id spells the typed name
    moodle_participants: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """"First Last"."""
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def sortable_name(self) -> str:
        """"Last, First" (Canvas's Student column)."""
        return ", ".join(p for p in (self.last_name, self.first_name) if p)


def _title(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").split()).casefold()


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for index, title in enumerate(header):
        if _title(title) in names:
            return index
    return None


def read_table(path: Path, what: str = "roster") -> tuple[list[list[str]], str]:
    """The rows of a CSV an instructor saved (encoding and delimiter detected; the header first),
    and the delimiter."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RosterError(f"cannot read the {what} {path}: {error}") from None
    text = None
    for encoding in ROSTER_ENCODINGS:  # UTF-8 (with or without Excel's BOM), else Excel's Windows encoding
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise RosterError(f"the {what} {path} is neither UTF-8 nor Windows-1252 text: save it as CSV UTF-8")
    header_line = text.split("\n", 1)[0]
    delimiter = max(ROSTER_DELIMITERS, key=header_line.count)  # Excel writes ';' where ',' is the decimal mark
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))  # quoted fields may hold line breaks
    if not rows:
        raise RosterError(f"the {what} {path} is empty: its first line names the columns "
                          "(id, first_name, last_name, email, ...)")
    return rows, delimiter


def read_roster(path: Path) -> list[Student]:
    """The students of a roster file (any layout of the module docstring). Raises ``RosterError``
    on a missing column, a bad or repeated id, or a partner who is not on the roster."""
    rows, delimiter = read_table(path)
    header = rows[0]
    columns = {field_name: _column(header, names) for field_name, names in ALIASES.items()}
    if _column(header, ("identifier",)) is not None and _column(header, ("full name",)) is not None:
        values = _moodle_worksheet(header, rows[1:])
    elif _column(header, ("student",)) is not None and columns["first_name"] is None:
        values = _canvas_export(header, rows[1:])
    elif columns["id"] is None and columns["first_name"] is not None and columns["email"] is not None:
        values = _moodle_export(columns, rows[1:])
    else:
        for needed in ("id", "first_name", "last_name"):
            if columns[needed] is None:
                raise RosterError(f"the roster {path} has no {needed} column (its header, read with the delimiter "
                                  f"{delimiter!r}: {', '.join(header)}); a roster is the course's CSV (id, "
                                  "first_name, last_name, ...), Canvas's gradebook export, or Moodle's grade "
                                  "export or grading worksheet")
        values = [(number, {f: _cell(row, i) for f, i in columns.items()})
                  for number, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
    return _students(path, values)


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _canvas_export(header: list[str], rows: list[list[str]]) -> list[tuple[int, dict]]:
    """Canvas's gradebook export as roster values (see the module docstring)."""
    student, ident = _column(header, ("student",)), _column(header, ("id",))
    sis_user, sis_login = _column(header, ALIASES["sis_user_id"]), _column(header, ALIASES["sis_login_id"])
    section = _column(header, ("section",))
    values = []
    for number, row in enumerate(rows, start=2):
        name, canvas_id = _cell(row, student), _cell(row, ident)
        if not name or not canvas_id or _title(name) in ("points possible", CANVAS_TEST_STUDENT):
            continue
        last, _, first = name.partition(", ")
        login, sis = _cell(row, sis_login), _cell(row, sis_user)
        own = next((v for v in (login, sis) if ROSTER_ID.fullmatch(v)), f"canvas-{canvas_id}")
        values.append((number, {"id": own, "first_name": first.strip(), "last_name": last.strip(),
                                "section": _cell(row, section), "canvas_id": canvas_id, "sis_user_id": sis,
                                "sis_login_id": login}))
    return values


def _moodle_export(columns: dict[str, int | None], rows: list[list[str]]) -> list[tuple[int, dict]]:
    """Moodle's grade export as roster values: the id is the ID number, else the email."""
    values = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        found = {f: _cell(row, i) for f, i in columns.items() if f != "id"}
        found["id"] = found["moodle_id"] or found["email"]
        values.append((number, found))
    return values


def _moodle_worksheet(header: list[str], rows: list[list[str]]) -> list[tuple[int, dict]]:
    """Moodle's grading worksheet as roster values, each with its participant number."""
    ident, full = _column(header, ("identifier",)), _column(header, ("full name",))
    email, number_col = _column(header, ALIASES["email"]), _column(header, ALIASES["moodle_id"])
    values = []
    for number, row in enumerate(rows, start=2):
        participant = PARTICIPANT.fullmatch(_cell(row, ident))
        if not participant:
            continue
        *first, last = _cell(row, full).split() or [""]
        moodle_id, mail = _cell(row, number_col), _cell(row, email)
        values.append((number, {"id": moodle_id or mail, "first_name": " ".join(first), "last_name": last,
                                "email": mail, "moodle_id": moodle_id,
                                "moodle_participants": (participant[1],)}))
    return values


def _students(path: Path, values: list[tuple[int, dict]]) -> list[Student]:
    """Roster values checked: ids path-safe and unique, a name, partners on the roster."""
    students: list[Student] = []
    seen: dict[str, int] = {}
    for number, found in values:
        ident = found["id"]
        if not ROSTER_ID.fullmatch(ident):
            raise RosterError(f"{path} line {number}: the id {ident!r} is not 1-64 letters, digits, "
                              "'.', '_', '@' or '-' starting with a letter or digit")
        if ident.casefold() in seen:
            raise RosterError(f"{path} line {number}: the id {ident!r} is also on line {seen[ident.casefold()]}")
        if not (found.get("first_name") or found.get("last_name")):
            raise RosterError(f"{path} line {number}: no first or last name")
        seen[ident.casefold()] = number
        students.append(Student(**found))
    ids = {s.id for s in students}
    for student in students:
        if student.partner and student.partner not in ids:
            raise RosterError(f"{path}: {student.id}'s partner {student.partner!r} is not a roster id")
    return students


def add_worksheets(students: list[Student], worksheets: list[Path]) -> tuple[list[Student], list[str]]:
    """The students with the participant numbers of Moodle's grading worksheets (one per
    assignment), matched by email (case-blind), else by ID number; and the worksheet rows no
    student matched ("Full name (Participant N)"), for the instructor to look at."""
    by_email = {s.email.casefold(): s.id for s in students if s.email}
    by_number = {s.moodle_id: s.id for s in students if s.moodle_id}
    extra: dict[str, list[str]] = {}
    unmatched = []
    for path in worksheets:
        for listed in read_roster(path):
            owner = by_email.get(listed.email.casefold()) if listed.email else None
            owner = owner or by_number.get(listed.moodle_id)
            if owner is None:
                unmatched.append(f"{listed.name} (Participant {listed.moodle_participants[0]})")
                continue
            extra.setdefault(owner, []).extend(listed.moodle_participants)
    return ([dataclasses.replace(s, moodle_participants=(*s.moodle_participants, *extra.get(s.id, ())))
             for s in students], unmatched)


def gradebook_roster(db_url: str) -> list[Student]:
    """The students an instructor put in the course's nbgrader gradebook (``nbgrader db student
    add`` or import), leaving out the pair entries this grader writes there."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        return [Student(s.id, s.first_name or "", s.last_name or "", s.email or "", canvas_id=s.lms_user_id or "")
                for s in gradebook.students
                if ROSTER_ID.fullmatch(s.id) and (s.lms_user_id or "") != GRADER_ENTRY]
