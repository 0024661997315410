"""The grades CSV: one row per submitted file, written as each submission finishes.

* **Atomic rows.** After every submission the whole table is written to a temporary file next
  to the CSV and moved over it (``os.replace``), so an interrupted run leaves a complete CSV of
  what finished, and ``--resume`` skips files whose path and content hash are already in it.
* **Safe cells.** Names, file names and reasons come from students: control and bidi characters
  are removed, the length is bounded, and a cell that a spreadsheet would read as a formula
  (``=``, ``+``, ``-``, ``@``, tab, carriage return, or their full-width forms) is prefixed with
  ``'`` so it shows as text.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
import unicodedata
from pathlib import Path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NAME_CHARS, REASON_CHARS = 80, 600


def safe_text(value: object, limit: int) -> str:
    """``value`` as one line of plain text a spreadsheet will not execute."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(value))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text


def fields(assignments: list[str]) -> list[str]:
    return ["submission", "sha256", "your_name", "your_partner_name", "assignment", *assignments,
            "total", "max_total", "flagged", "reason"]


def to_record(row: dict, assignments: list[str]) -> dict:
    """A CSV record of a grading row (see ``cli.grade_one``), every text cell made safe."""
    record = {
        "submission": safe_text(row["submission"], 200), "sha256": row.get("sha256", ""),
        "your_name": safe_text(row["your_name"], NAME_CHARS),
        "your_partner_name": safe_text(row["your_partner_name"], NAME_CHARS),
        "assignment": safe_text(row["assignment"], 80),
        "total": f"{row['points']:g}", "max_total": f"{row['max_points']:g}",
        "flagged": "FLAGGED" if row.get("flags") else "",
        "reason": safe_text(row["reason"], REASON_CHARS),
    }
    record.update({a: (f"{row['points']:g}" if a == row["assignment"] else "") for a in assignments})
    return record


class GradesFile:
    """The CSV at ``path``; ``add`` appends a row and rewrites the file atomically."""

    def __init__(self, path: Path, assignments: list[str], resume: bool = False):
        self.path, self.assignments = path, assignments
        self.records: list[dict] = []
        if resume and path.exists():
            with path.open(newline="") as handle:
                self.records = [dict(r) for r in csv.DictReader(handle)]

    def done(self, submission: str, sha256: str) -> bool:
        """Whether this file, with this content, already has a row (``--resume``)."""
        key = safe_text(submission, 200)
        return any(r.get("submission") == key and r.get("sha256") == sha256 for r in self.records)

    def add(self, row: dict) -> None:
        self.records.append(to_record(row, self.assignments))
        self.write()

    def sort(self) -> None:
        """Order the rows by file name and rewrite the file (the same table whatever the order of grading)."""
        self.records.sort(key=lambda r: r.get("submission", ""))
        self.write()

    def write(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields(self.assignments), extrasaction="ignore", restval="")
        writer.writeheader()
        writer.writerows(self.records)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", newline="") as out:
                out.write(buffer.getvalue())
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
