"""Turn the runner's signed report into points, flags and reasons, outside the sandbox.

The report is the only thing a run leaves (``sandbox.Outcome.report``). Every line carries an
HMAC under a fresh 32-byte key per submission (``new_key``); a line that does not verify is
ignored and flagged, so printed text, forged lines and a crafted gradebook earn nothing.
Points come from the release's own metadata, never from the run: a test scores its points when
exactly one verified record says it passed.
"""
from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass, field
from hashlib import sha256

TOKEN = re.compile(r"[A-Za-z0-9_.:\[\]+-]{1,80}")
LINE = re.compile(r"([RFD]) (\d{1,9}) (.{1,200}) ([0-9a-f]{64})")
# Errors that only follow from an answer left undone (its tests already say so).
CONSEQUENTIAL_ERRORS = {"NotImplementedError", "NameError"}


def new_key() -> bytes:
    return secrets.token_bytes(32)


@dataclass
class CellRecord:
    status: str   # pass | fail | timeout
    error: str    # an exception class name (checked to be an identifier), or "-"
    line: int = 0  # test cells: the line of the cell the failure came from (0: unknown)


@dataclass
class Report:
    """What a run proved: per-cell records (by plan index), flags, whether it reached its end,
    and how many lines were forged or duplicated."""

    cells: dict[int, list[CellRecord]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    finished: bool = False
    forged_lines: int = 0

    def outcome(self, index: int) -> CellRecord | None:
        """The cell's one record; None if it never reported; a fail when it reported twice."""
        records = self.cells.get(index, [])
        if len(records) == 1:
            return records[0]
        return CellRecord("fail", "DuplicateVerdict") if records else None


def parse(report: bytes, key: bytes) -> Report:
    """Verify and read the runner's lines (see ``runner.emit``)."""
    result, last_seq = Report(), 0
    for raw in report.split(b"\n"):
        if not raw:
            continue
        match = LINE.fullmatch(raw.decode("ascii", errors="replace"))
        if not match:
            result.forged_lines += 1
            continue
        kind, seq, body, mac = match.groups()
        expected = hmac.new(key, f"{kind}|{seq}|{body}".encode(), sha256).hexdigest()
        if not hmac.compare_digest(expected, mac) or int(seq) <= last_seq:
            result.forged_lines += 1
            continue
        last_seq = int(seq)
        if kind == "R":
            index, status, error, *rest = body.split(" ")
            line = int(rest[0]) if rest and rest[0].isdigit() and len(rest[0]) < 6 else 0
            result.cells.setdefault(int(index), []).append(CellRecord(status, error, line))
        elif kind == "F":
            result.flags.add(body if TOKEN.fullmatch(body) else "unnamed")
        elif kind == "D":
            result.finished = True
    if any(len(records) > 1 for records in result.cells.values()):
        result.flags.add("duplicate-verdicts")
    if result.forged_lines:
        result.flags.add("unsigned-report-lines")
    return result
