"""Grade files an LMS imports unedited, made from the per-student rows (``reports.student_rows``)
and the roster (``identity``). Each assignment's column is its autograded plus hand-graded points;
in the Canvas file a student with nothing counted has a blank cell (Canvas leaves it unchanged).

* **Canvas** (Grades > Import): the layout of Canvas's own gradebook export, which its importer
  reads back: ``Student`` ("Last, First"), ``ID`` (Canvas user id), ``SIS User ID``,
  ``SIS Login ID``, ``Section``, then one column per assignment; the second row is
  ``Points Possible``. Canvas matches a row by ID, SIS User ID or SIS Login ID, so a student
  with none of them is left out (and listed). A column whose header has no ``(id)`` makes a new
  assignment on import.
* **Moodle** (Grades > Import > CSV file): one file per assignment, ``First name``, ``Last
  name``, ``ID number``, ``Email address`` and the assignment's column, holding only the students
  with points for it: Moodle's importer reads an empty cell as "no grade" and *clears* a grade
  already there (``grade/import/csv/classes/load_data.php``), so no cell is ever left blank. At
  import, map "Email address" to ``useremail`` and the column to its grade item. A student
  without an email is left out (and listed): an empty mapped field aborts Moodle's import.

Both are written only with a roster: typed names are not identities an LMS knows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .identity import People
from .reports import _write_table, safe_text

CANVAS_HEAD = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_HEAD = ["First name", "Last name", "ID number", "Email address"]


@dataclass
class Written:
    """What one LMS file holds: its path, its rows, and the students left out (no id it knows)."""

    path: Path
    rows: int = 0
    left_out: list[str] = field(default_factory=list)


def _points(row: dict, assignment: str) -> str:
    auto, written = row.get(assignment, ""), row.get(f"{assignment}_written", "")
    if auto == "" and written == "":
        return ""
    return f"{float(auto or 0) + float(written or 0):g}"


def write_canvas(path: Path, rows: list[dict], people: People, assignments: list[str],
                 possible: dict[str, float]) -> Written:
    """The Canvas gradebook-import CSV of ``rows`` (per-student rows with an ``id``)."""
    out = Written(path)
    table = [{"Student": "Points Possible", **{a: f"{possible.get(a, 0):g}" for a in assignments}}]
    for row in rows:
        student = people.students.get(row.get("id", ""))
        if student is None:
            continue
        if not (student.canvas_id or student.sis_user_id or student.sis_login_id):
            out.left_out.append(student.name)
            continue
        table.append({"Student": safe_text(student.sortable_name, 200), "ID": safe_text(student.canvas_id, 80),
                      "SIS User ID": safe_text(student.sis_user_id, 80),
                      "SIS Login ID": safe_text(student.sis_login_id, 80),
                      "Section": safe_text(student.section, 80),
                      **{a: _points(row, a) for a in assignments}})
        out.rows += 1
    _write_table(path, [*CANVAS_HEAD, *assignments], table)
    return out


def moodle_path(path: Path, assignment: str) -> Path:
    """The Moodle file of one assignment: ``grades-moodle.csv`` -> ``grades-moodle-<assignment>.csv``."""
    return path.with_name(f"{path.stem}-{assignment}{path.suffix}")


def write_moodle(path: Path, rows: list[dict], people: People, assignments: list[str]) -> list[Written]:
    """The Moodle grade-import CSVs of ``rows``, one per assignment (``moodle_path``), each with only
    the students who have points for it and an email to be matched by."""
    written = []
    for assignment in assignments:
        out = Written(moodle_path(path, assignment))
        table = []
        for row in rows:
            student = people.students.get(row.get("id", ""))
            points = _points(row, assignment)
            if student is None or points == "":
                continue  # never a blank cell: Moodle would clear the grade it has
            if not student.email:
                out.left_out.append(student.name)
                continue
            table.append({"First name": safe_text(student.first_name, 200),
                          "Last name": safe_text(student.last_name, 200),
                          "ID number": safe_text(student.moodle_id, 80), "Email address": safe_text(student.email, 200),
                          assignment: points})
            out.rows += 1
        _write_table(out.path, [*MOODLE_HEAD, assignment], table)
        written.append(out)
    return written
