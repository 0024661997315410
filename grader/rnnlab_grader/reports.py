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
import io
import json
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, unquote

from .credits import Credits

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NAME_CHARS, REASON_CHARS = 80, 4000  # reasons: what decides the points first, similarity notes last


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
            "total", "max_total", "flagged", "reason", "tests", "unwritten", "similar_to"]


def test_token(grade_id: str, record, crashed: bool = False) -> str:
    """One test's outcome as a CSV token: ``id=pass``, ``id=fail:AssertionError:12`` (the error
    class and the failing line of the test cell; ``:<name>`` after it, URL-quoted, names a recorded
    value that differed from the solution's), ``id=timeout``, ``id=notrun`` or ``id=crash``.
    Every part comes from the release or the grader's verdict, never from the submission's text."""
    if crashed:
        return f"{grade_id}=crash"
    if record is None:
        return f"{grade_id}=notrun"
    if record.status == "fail":
        entry = f":{quote(record.entry[:200], safe='[]_.-')}" if record.entry else ""
        return f"{grade_id}=fail:{record.error}:{record.line}{entry}"
    return f"{grade_id}={record.status}"


class TestOutcome(NamedTuple):
    """One token of a record's ``tests`` column; ``entry``: the recorded value that differed."""

    grade_id: str
    status: str
    error: str
    line: int
    entry: str = ""


def parse_tests(text: str) -> list[TestOutcome]:
    """A ``TestOutcome`` for each token of a record's ``tests`` column."""
    parsed = []
    for token in (text or "").split():
        grade_id, _, outcome = token.partition("=")
        status, _, rest = outcome.partition(":")
        error, _, rest = rest.partition(":")
        line, _, entry = rest.partition(":")
        parsed.append(TestOutcome(grade_id, status, error, int(line) if line.isdigit() else 0, unquote(entry)))
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
        "unwritten": safe_text(" ".join(row.get("unwritten", [])), 2_000),
    }
    record.update({a: (f"{row['points']:g}" if a == row["assignment"] else "") for a in assignments})
    return record


class GradesFile:
    """The CSV at ``path``; ``add`` appends a row and rewrites the file atomically."""

    def __init__(self, path: Path, assignments: list[str], resume: bool = False, outputs: Path | None = None):
        self.path, self.assignments, self.outputs = path, assignments, outputs
        self.records: list[dict] = []
        if resume and path.exists():
            with path.open(newline="") as handle:
                self.records = [dict(r) for r in csv.DictReader(handle)]

    def done(self, submission: str, sha256: str) -> bool:
        """Whether this file, with this content, already has a row (``--resume``)."""
        key = safe_text(submission, 200)
        return any(r.get("submission") == key and r.get("sha256") == sha256 for r in self.records)

    def add(self, row: dict) -> None:
        """Append a row; with ``outputs`` (a folder), what its cells printed and drew goes to
        ``<outputs>/<sha256>.json`` for the graded copy formgrader shows."""
        self.records.append(to_record(row, self.assignments))
        if self.outputs is not None and row.get("outputs") and row.get("sha256"):
            self.outputs.mkdir(parents=True, exist_ok=True)
            data = json.dumps({str(index): out for index, out in row["outputs"].items()})
            (self.outputs / f"{row['sha256']}.json").write_text(data, encoding="utf-8")
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


STUDENT_FIELDS_HEAD = ["student", "id"]
STUDENT_FIELDS_TAIL = ["total", "max_total", "flagged", "reason", "files"]


@dataclass(frozen=True)
class WrittenGrade:
    """One hand-graded answer as formgrader left it."""

    grade_id: str
    score: float | None         # None until graded
    max_score: float
    comment: str


@dataclass(frozen=True)
class HandScore:
    """One gradebook entry's points on one assignment as formgrader left them."""

    auto: float                                  # autograded points (a manual override wins)
    answers: tuple[WrittenGrade, ...] = ()       # the written answers

    @property
    def written(self) -> float:
        """Hand-graded points so far."""
        return sum(a.score or 0.0 for a in self.answers)

    @property
    def graded(self) -> int:
        return sum(1 for a in self.answers if a.score is not None)

    @property
    def of(self) -> int:
        return len(self.answers)


def student_rows(credits: Credits, assignments: list[str], max_points: dict[str, float],
                 hand: dict[tuple[str, str], HandScore] | None = None,
                 written_max: dict[str, float] | None = None) -> list[dict]:
    """One row per student (``credits.credit``): a column per assignment with the counted file's
    points, and a total. With ``hand`` (``gradebook.hand_scores``, keyed by gradebook entry and
    assignment), a notebook's autograded points are the gradebook's (formgrader's overrides win),
    ``<assignment>_written`` holds the hand-graded points so far and the reason says "k of n
    graded" until all are; the total adds both, and ``max_total`` adds ``written_max``. Files
    nobody can be credited with get a flagged row each, so no points go missing."""
    rows = []
    maximum = sum(max_points.get(a, 0) + (written_max or {}).get(a, 0) for a in assignments)
    similar: dict[str, list[str]] = {}
    for record, claim in credits.claims:  # similarity.mark_records: a flag for a person, points unchanged
        if record.get("similar_to") and claim.submitter:
            similar.setdefault(claim.submitter, []).append(
                f"{record.get('assignment')}: {record.get('submission')} is similar to {record['similar_to']} "
                "(see the similarity report)")
    for student in credits.students():
        row = {"student": safe_text(student.name, NAME_CHARS), "id": safe_text(student.id, 200)}
        total, notes, files, flagged = 0.0, [], [], student.id in similar
        for a in assignments:
            entry = credits.by_student.get((student.id, a))
            auto = written = None
            if entry is not None:
                notes += entry.notes
                flagged |= entry.flagged
                if entry.record is not None:
                    auto = float(entry.record.get("total") or 0)
                    files.append(entry.record.get("submission", ""))
                    if hand is not None and (score := hand.get((entry.unit, a))) is not None:
                        auto = score.auto
                        written = score.written if score.of else None
                        if score.of and score.graded < score.of:
                            notes.append(f"{a}: written answers {score.graded} of {score.of} graded")
            row[a] = "" if auto is None else f"{auto:g}"
            row[f"{a}_written"] = "" if written is None else f"{written:g}"
            total += (auto or 0.0) + (written or 0.0)
        row.update(total=f"{total:g}", max_total=f"{maximum:g}", flagged="FLAGGED" if flagged else "",
                   reason=safe_text("; ".join(dict.fromkeys(notes + similar.get(student.id, []))), REASON_CHARS),
                   files=safe_text(" ".join(sorted(set(files))), REASON_CHARS))
        rows.append(row)
    for record, claim in credits.unidentified:
        a = record.get("assignment", "")
        blank = {column: "" for b in assignments for column in (b, f"{b}_written")}
        rows.append({"student": safe_text(f"(unidentified) {record.get('submission', '')}", NAME_CHARS), "id": "",
                     **blank, a: record.get("total", ""), "total": record.get("total", ""), "max_total": f"{maximum:g}",
                     "flagged": "FLAGGED",
                     "reason": safe_text("; ".join(f"{a}: {n}" for n in claim.notes), REASON_CHARS),
                     "files": safe_text(record.get("submission", ""), REASON_CHARS)})
    return rows


def write_student_table(path: Path, rows: list[dict], assignments: list[str]) -> None:
    """Write ``student_rows``'s rows to ``path`` atomically (the table a spreadsheet reads)."""
    columns = [c for a in assignments for c in (a, f"{a}_written")]
    _write_table(path, [*STUDENT_FIELDS_HEAD, *columns, *STUDENT_FIELDS_TAIL], rows)
