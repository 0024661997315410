"""The grades CSVs: one row per submitted file, written as each submission finishes, and one row
per student (both partners credited), written at the end of a run.

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
import hashlib
import io
import os
import re
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
            "total", "max_total", "flagged", "reason", "tests"]


def test_token(grade_id: str, record, crashed: bool = False) -> str:
    """One test's outcome as a CSV token: ``id=pass``, ``id=fail:AssertionError:12`` (the error
    class and the failing line of the test cell), ``id=timeout``, ``id=notrun`` or ``id=crash``.
    Every part comes from the release or the grader's verdict, never from the submission's text."""
    if crashed:
        return f"{grade_id}=crash"
    if record is None:
        return f"{grade_id}=notrun"
    if record.status == "fail":
        return f"{grade_id}=fail:{record.error}:{record.line}"
    return f"{grade_id}={record.status}"


def parse_tests(text: str) -> list[tuple[str, str, str, int]]:
    """``(grade_id, status, error, line)`` for each token of a record's ``tests`` column."""
    parsed = []
    for token in (text or "").split():
        grade_id, _, outcome = token.partition("=")
        status, _, rest = outcome.partition(":")
        error, _, line = rest.partition(":")
        parsed.append((grade_id, status, error, int(line) if line.isdigit() else 0))
    return parsed


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
        "tests": safe_text(" ".join(row.get("tests", [])), 20_000),
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
        _write_table(self.path, fields(self.assignments), self.records)


def _write_table(path: Path, fieldnames: list[str], rows: list[dict]) -> None:
    """Write the CSV to a temporary file next to ``path`` and move it over ``path``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, extrasaction="ignore", restval="")
    writer.writeheader()
    writer.writerows(rows)
    text = buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


STUDENT_FIELDS_HEAD = ["student"]
STUDENT_FIELDS_TAIL = ["total", "max_total", "flagged", "reason", "files"]


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def credited_names(record: dict) -> list[str]:
    """The students a per-file record credits: its pair names, ``"self"`` and blanks left out."""
    return [n for n in (record.get("your_name", ""), record.get("your_partner_name", ""))
            if n.strip() and _name_key(n) != "self"]


def folder_name(student: str) -> str:
    """A path-safe, collision-free folder name for a student's name."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", student).strip("_")[:60] or "student"
    return f"{slug}-{hashlib.sha256(' '.join(student.split()).casefold().encode()).hexdigest()[:8]}"


def pair_id(record: dict) -> str | None:
    """The gradebook student id of a per-file record's pair (None when it names nobody)."""
    names = sorted({_name_key(n): n for n in credited_names(record)}.values(), key=_name_key)
    return "+".join(folder_name(n).lower() for n in names) or None


def student_choices(records: list[dict], assignments: list[str]) -> list[tuple[str, str, dict]]:
    """``(student, assignment, record)``: for each named student and assignment, the file whose
    points count (the highest, as in ``student_rows``; the first of equals in file-name order)."""
    best: dict[tuple[str, str], tuple[str, dict]] = {}
    for record in sorted(records, key=lambda r: r.get("submission", "")):
        if record.get("assignment") not in assignments:
            continue
        for name in credited_names(record):
            key = (_name_key(name), record["assignment"])
            if key not in best or float(record.get("total") or 0) > float(best[key][1].get("total") or 0):
                best[key] = (name, record)
    return [(name, assignment, record) for (_, assignment), (name, record) in sorted(best.items())]


def student_rows(records: list[dict], assignments: list[str], max_points: dict[str, float],
                 hand: dict | None = None, written_max: dict[str, float] | None = None) -> list[dict]:
    """One row per student from the per-file records: both partners credited (``"self"`` means
    working alone), a column per assignment and a total. A student found in two *different* pairs
    for one assignment is flagged and keeps the higher score, never the sum; two partners handing
    in copies of one notebook is the expected case. A file without names gets a row of its own,
    flagged, so no points go missing. With ``hand`` (``gradebook.hand_scores``), a notebook's
    autograded points are the gradebook's (formgrader's overrides win) and ``<assignment>_written``
    holds its hand-graded points (blank until every written answer is graded); the total adds both,
    and ``max_total`` adds ``written_max``."""
    by_student: dict[str, dict] = {}
    for record in records:
        assignment = record.get("assignment", "")
        if assignment not in assignments:
            continue
        names = credited_names(record)
        pair = frozenset(_name_key(n) for n in names)
        if not names:
            names = [f"(no names) {record.get('submission', '')}"]
        for name in names:
            entry = by_student.setdefault(_name_key(name), {"student": name, "scores": {}, "pairs": {}, "notes": [],
                                                           "files": [], "flagged": not pair})
            entry["files"].append(record.get("submission", ""))
            entry["flagged"] |= record.get("flagged") == "FLAGGED"
            score = float(record.get("total") or 0)
            seen = entry["pairs"].setdefault(assignment, {})  # pair -> the file it came from
            if seen and pair not in seen:
                entry["flagged"] = True
                files = ", ".join([*seen.values(), record.get("submission", "")])
                entry["notes"].append(f"{assignment}: in two different pairs (files {files})")
            seen.setdefault(pair, record.get("submission", ""))
            entry["scores"][assignment] = max(score, entry["scores"].get(assignment, 0.0))
            if record.get("reason"):
                entry["notes"].append(f"{assignment}: {record['reason']}")
    counted = {(_name_key(name), a): record for name, a, record in student_choices(records, assignments)}
    rows = []
    for key in sorted(by_student):
        entry = by_student[key]
        row = {"student": safe_text(entry["student"], NAME_CHARS)}
        total = 0.0
        for a in assignments:
            auto, written = entry["scores"].get(a), None
            pair = pair_id(counted[(key, a)]) if (key, a) in counted else None
            if hand is not None and (pair, a) in hand:
                auto, written = hand[(pair, a)]  # formgrader's overrides and hand grades
            row[a] = "" if auto is None else f"{auto:g}"
            row[f"{a}_written"] = "" if written is None else f"{written:g}"
            total += (auto or 0.0) + (written or 0.0)
        row.update(total=f"{total:g}",
                   max_total=f"{sum(max_points.get(a, 0) + (written_max or {}).get(a, 0) for a in assignments):g}",
                   flagged="FLAGGED" if entry["flagged"] else "",
                   reason=safe_text("; ".join(dict.fromkeys(entry["notes"])), REASON_CHARS),
                   files=safe_text(" ".join(sorted(set(entry["files"]))), REASON_CHARS))
        rows.append(row)
    return rows


def write_student_table(path: Path, records: list[dict], assignments: list[str], max_points: dict[str, float],
                        hand: dict | None = None, written_max: dict[str, float] | None = None) -> None:
    """Write ``student_rows`` to ``path`` atomically (the gradebook a spreadsheet or an LMS imports)."""
    columns = [c for a in assignments for c in (a, f"{a}_written")]
    _write_table(path, [*STUDENT_FIELDS_HEAD, *columns, *STUDENT_FIELDS_TAIL],
                 student_rows(records, assignments, max_points, hand, written_max))
