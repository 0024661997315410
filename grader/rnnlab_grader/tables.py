"""The CSV tables, the one place typed results become text: one row per graded file
(``write_by_file``), one row per student (``write_students``) and the files an LMS imports
(``write_lms``, laid out by ``lms``). All are rewritten from the whole results store after every
run (``store``), so grading one notebook at a time accumulates.

* **Atomic.** Each table is written to a temporary file next to it and moved over it
  (``os.replace``): a reader never sees half a table.
* **Safe cells.** Names, file names and reasons come from students: control and bidi characters
  are removed, the length is bounded, and a cell that a spreadsheet would read as a formula
  (``=``, ``+``, ``-``, ``@``, tab, carriage return, or their full-width forms) is prefixed with
  ``'`` so it shows as text (``safe_text``).
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from .results import FileResult, TestResult, TestStatus, reason_line
from .sanitise import one_line
from .standing import StudentRow

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NAME_CHARS, PATH_CHARS, REASON_CHARS = 80, 200, 4000  # reasons: what decides the points first, similarity last
BY_FILE_HEAD = ["submission", "sha256", "your_name", "your_partner_name", "assignment"]
BY_FILE_TAIL = ["total", "max_total", "flagged", "reason", "tests", "unwritten", "similar_to"]
STUDENT_HEAD, STUDENT_TAIL = ["student", "id"], ["total", "max_total", "flagged", "reason", "files"]
FLAG = "FLAGGED"


def safe_text(value: object, limit: int) -> str:
    """``value`` as one line of plain text a spreadsheet will not execute."""
    text = one_line(str(value), limit)
    return "'" + text if text.startswith(FORMULA_START) else text


def number(value: float | None) -> str:
    """A number as the tables write it (``5``, ``2.5``); blank for None."""
    return "" if value is None else f"{value:g}"


def test_token(test: TestResult) -> str:
    """One test's outcome in the ``tests`` column: ``id=pass``, ``id=fail:AssertionError:12`` (the
    error class and the failing line of the test cell; ``:<name>`` after it, URL-quoted, names a
    recorded value that differed from the solution's), ``id=timeout``, ``id=notrun`` or ``id=crash``."""
    if test.status is TestStatus.FAIL:
        entry = f":{quote(test.entry[:200], safe='[]_.-')}" if test.entry else ""
        return f"{test.grade_id}=fail:{test.error}:{test.line}{entry}"
    return f"{test.grade_id}={test.status.value}"


def by_file_fields(assignments: list[str]) -> list[str]:
    return [*BY_FILE_HEAD, *assignments, *BY_FILE_TAIL]


def by_file_row(result: FileResult, assignments: list[str]) -> dict[str, str]:
    """One graded file's row, every text cell made safe."""
    similar = "; ".join(f"{s.path} ({s.score:.2f})" for s in result.similar)
    return {"submission": safe_text(result.path, PATH_CHARS), "sha256": result.sha256,
            "your_name": safe_text(result.your_name, NAME_CHARS),
            "your_partner_name": safe_text(result.your_partner_name, NAME_CHARS),
            "assignment": safe_text(result.assignment, 80),
            **{a: (number(result.points) if a == result.assignment else "") for a in assignments},
            "total": number(result.points), "max_total": number(result.max_points),
            "flagged": FLAG if result.flagged else "", "reason": safe_text(reason_line(result), REASON_CHARS),
            "tests": safe_text(" ".join(test_token(t) for t in result.tests), 20_000),
            "unwritten": safe_text(" ".join(result.unwritten), 2_000),
            "similar_to": safe_text(similar, REASON_CHARS)}


def write_by_file(path: Path, results: Iterable[FileResult], assignments: list[str]) -> None:
    """The table of one row per graded file (ordered as given)."""
    write_table(path, by_file_fields(assignments), [by_file_row(r, assignments) for r in results])


def student_row(row: StudentRow, assignments: list[str]) -> dict[str, str]:
    """One student's row of the per-student table."""
    cells = {"student": safe_text(row.label, NAME_CHARS), "id": safe_text(row.id, PATH_CHARS)}
    for a in assignments:
        cells[a], cells[f"{a}_written"] = number(row.auto.get(a)), number(row.written.get(a))
    return {**cells, "total": number(row.total), "max_total": number(row.max_total),
            "flagged": FLAG if row.flagged else "", "reason": safe_text("; ".join(row.notes), REASON_CHARS),
            "files": safe_text(" ".join(row.files), REASON_CHARS)}


def write_students(path: Path, rows: list[StudentRow], assignments: list[str]) -> None:
    """The table of one row per student (the one a spreadsheet reads)."""
    columns = [c for a in assignments for c in (a, f"{a}_written")]
    write_table(path, [*STUDENT_HEAD, *columns, *STUDENT_TAIL], [student_row(r, assignments) for r in rows])


def write_lms(path: Path, columns: list[str], rows: list[list[str | float | None]]) -> None:
    """An LMS import file: text cells made safe, numbers as ``number`` writes them."""
    cells = [{c: number(v) if isinstance(v, float) or v is None else safe_text(v, PATH_CHARS)
              for c, v in zip(columns, row)} for row in rows]
    write_table(path, columns, cells)


def write_table(path: Path, fieldnames: list[str], rows: list[dict[str, str]]) -> None:
    """Write the CSV to a temporary file next to ``path`` and move it over ``path``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, extrasaction="ignore", restval="")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="") as out:
            out.write(buffer.getvalue())
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
