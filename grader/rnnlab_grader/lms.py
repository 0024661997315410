"""Grade files an LMS imports unedited, made from the per-student rows (``standing.student_rows``)
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
from .releases import CourseSettingsError, course_settings
from .standing import StudentRow
from .tables import write_lms

CANVAS_HEAD = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_HEAD = ["First name", "Last name", "ID number", "Email address"]


@dataclass
class Written:
    """What one LMS file holds: its path, its rows, and the students left out (no id it knows)."""

    path: Path
    rows: int = 0
    left_out: list[str] = field(default_factory=list)


def canvas_ids(course_toml: Path) -> dict[str, str]:
    """Each notebook's Canvas assignment id from ``course.toml`` (``[canvas.assignment_ids]``)."""
    ids = course_settings(course_toml).get("canvas", {}).get("assignment_ids", {})
    bad = [f"{name} = {value!r}" for name, value in ids.items() if not str(value).isdigit()]
    if bad:
        raise CourseSettingsError(f"{course_toml}: [canvas.assignment_ids] takes the number at the end of each "
                                  f"assignment's Canvas address, not {', '.join(bad)}")
    return {name: str(value) for name, value in ids.items()}


def canvas_header(assignment: str, ids: dict[str, str]) -> str:
    """A column Canvas's importer matches to its assignment: ``Name (id)``; the bare name without an id."""
    return f"{assignment} ({ids[assignment]})" if assignment in ids else assignment


def write_canvas(path: Path, rows: list[StudentRow], people: People, assignments: list[str],
                 possible: dict[str, float], ids: dict[str, str] | None = None) -> Written:
    """The Canvas gradebook-import CSV of the students' rows, a column per assignment."""
    out = Written(path)
    table: list[list] = [["Points Possible", "", "", "", "", *(float(possible.get(a, 0)) for a in assignments)]]
    for row in rows:
        student = people.students.get(row.id)
        if student is None:
            continue
        if not (student.canvas_id or student.sis_user_id or student.sis_login_id):
            out.left_out.append(student.name)
            continue
        table.append([student.sortable_name, student.canvas_id, student.sis_user_id, student.sis_login_id,
                      student.section, *(row.points(a) for a in assignments)])
        out.rows += 1
    write_lms(path, [*CANVAS_HEAD, *(canvas_header(a, ids or {}) for a in assignments)], table)
    return out


def write_canvas_each(path: Path, rows: list[StudentRow], people: People, assignments: list[str],
                      possible: dict[str, float], ids: dict[str, str] | None = None) -> list[Written]:
    """The whole course's Canvas file at ``path`` and one per assignment (``assignment_path``), so a
    notebook's grades can be posted alone."""
    done = [write_canvas(path, rows, people, assignments, possible, ids)]
    return done + [write_canvas(assignment_path(path, a), rows, people, [a], possible, ids) for a in assignments]


def assignment_path(path: Path, assignment: str) -> Path:
    """An LMS file of one assignment: ``grades-moodle.csv`` -> ``grades-moodle-<assignment>.csv``."""
    return path.with_name(f"{path.stem}-{assignment}{path.suffix}")


def write_moodle(path: Path, rows: list[StudentRow], people: People, assignments: list[str]) -> list[Written]:
    """The Moodle grade-import CSVs of the students' rows, one per assignment (``assignment_path``), each
    with only the students who have points for it and an email to be matched by."""
    written = []
    for assignment in assignments:
        out, table = Written(assignment_path(path, assignment)), []
        for row in rows:
            student = people.students.get(row.id)
            points = row.points(assignment)
            if student is None or points is None:
                continue  # never a blank cell: Moodle would clear the grade it has
            if not student.email:
                out.left_out.append(student.name)
                continue
            table.append([student.first_name, student.last_name, student.moodle_id, student.email, points])
            out.rows += 1
        write_lms(out.path, [*MOODLE_HEAD, assignment], table)
        written.append(out)
    return written
