"""Decide each test's verdict outside every sandbox: the student's run against the solution's.

A run leaves one thing, its report (``sandbox.Outcome.report``): JSON lines the runner wrote, one
per cell with the values its test recorded (``rnnlab.checks.record``). A report is a *claim*: the
student's run is untrusted code that may write anything there. So:

* ``parse`` reads a report as plain data only (``json`` into builtins), bounded in size and
  depth, and converts every recorded value to exact builtin types and float64 NumPy arrays
  (``plain``); nothing of a submission (no class, ``__eq__``, ``__array__`` or tensor subclass)
  ever reaches the comparison, and what does not fit the schema is dropped and flagged.
* ``judge`` decides a test from the student's claim *and* the solution's run of the same test
  cell, which ran in a sandbox of its own with no submission code: the test passes when the
  student's cell finished and every value it recorded matches the solution's at the same place,
  with the tolerances the *solution's* record states. Source checks (NumPy only, no course
  model) and the pair names are decided here from the submitted source text (``source_checks``).

Points come from the release's metadata, never from a run.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from rnnlab.checks import pair_problem
from rnnlab_runner.protocol import (
    CELL,
    END,
    ERROR_NAME,
    FLAG,
    MAX_DEPTH,
    MAX_ENTRIES,
    MAX_LINE,
    MAX_LINE_BYTES,
    MAX_NAME_CHARS,
    MAX_OUTPUT_CHARS,
    MAX_REPORT_NUMBERS,
    OTHER_ERROR,
    OUTPUT,
    OUTPUT_CHARS,
    OUTPUT_FIGURES,
    OUTPUT_PNG_CHARS,
    TOKEN,
)

from . import source_checks

# Errors that only follow from an answer left undone (its tests already say so).
CONSEQUENTIAL_ERRORS = {"NotImplementedError", "NameError"}
LOW_PRECISION = ("float32", "float16", "bfloat16", "half")


class Malformed(ValueError):
    """A recorded value outside the schema."""


@dataclass(frozen=True)
class Array:
    """A recorded tensor or NumPy array: float64 values, and the dtype it was computed in."""

    values: np.ndarray
    dtype: str


@dataclass(frozen=True)
class Entry:
    """One ``record``/``assert_not_using``/``check_pair`` call of a test cell."""

    kind: str          # value | source | pair
    name: str
    line: int          # the line of the test cell that made it (0: unknown)
    value: object = None
    options: dict = field(default_factory=dict)


@dataclass
class CellRecord:
    status: str   # pass | fail | timeout
    error: str    # an exception class name (checked to be an identifier), or "-"
    line: int = 0  # test cells: the line of the cell the failure came from (0: unknown)
    entries: tuple = ()
    entry: str = ""  # a value that differed: its name in the *solution's* record (instructor text)


@dataclass
class RunReport:
    """What a run claims: per-cell records (by plan index), flags, whether it reached its end, and
    how many lines did not fit the schema."""

    cells: dict[int, list[CellRecord]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    finished: bool = False
    malformed_lines: int = 0

    def outcome(self, index: int) -> CellRecord | None:
        """The cell's one record; None if it never reported; a fail when it reported twice."""
        records = self.cells.get(index, [])
        if len(records) == 1:
            return records[0]
        return CellRecord("fail", "DuplicateVerdict") if records else None


def plain(value, budget: list[int], depth: int = 0):
    """A recorded JSON value as exact builtins and ``Array``; raises ``Malformed`` otherwise."""
    if depth > MAX_DEPTH:
        raise Malformed("too deep")
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value
    if kind is float:
        return value
    if kind is list:
        budget[0] -= len(value)
        if budget[0] < 0:
            raise Malformed("too large")
        return [plain(v, budget, depth + 1) for v in value]
    if kind is dict and set(value) == {"dict"} and type(value["dict"]) is list:
        items = {}
        for pair in value["dict"]:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise Malformed("dict entry")
            items[pair[0]] = plain(pair[1], budget, depth + 1)
        return items
    if kind is dict and set(value) == {"array", "shape", "dtype"}:
        numbers, shape, dtype = value["array"], value["shape"], value["dtype"]
        if type(numbers) is not list or type(shape) is not list or type(dtype) is not str or len(shape) > 8:
            raise Malformed("array")
        if not all(type(n) is int and 0 <= n < 2**31 for n in shape) or math.prod(shape) != len(numbers):
            raise Malformed("array shape")
        budget[0] -= len(numbers)
        if budget[0] < 0:
            raise Malformed("too large")
        if not all(type(x) in (float, int) and type(x) is not bool for x in numbers):
            raise Malformed("array values")
        return Array(np.array(numbers, dtype=np.float64).reshape(shape), dtype[:40])
    raise Malformed("type")


def _entry(raw, budget: list[int]) -> Entry:
    if type(raw) is not dict or type(raw.get("kind")) is not str or raw["kind"] not in ("value", "source", "pair"):
        raise Malformed("entry")
    name, line, options = raw.get("name"), raw.get("line", 0), raw.get("options", {})
    if type(name) is not str or type(line) is not int or type(options) is not dict:
        raise Malformed("entry fields")
    clean = {}
    for key, option in options.items():
        if type(key) is str and (option is None or type(option) in (int, float, bool, str)):
            clean[key] = option
        elif type(key) is str and type(option) is list and all(type(x) is str for x in option):
            clean[key] = tuple(option)
    value = plain(raw.get("value"), budget) if raw["kind"] == "value" else None
    return Entry(raw["kind"], name[:MAX_NAME_CHARS], line if 0 <= line < MAX_LINE else 0, value, clean)


def parse_display(display: bytes, shown: set[int]) -> dict[int, dict]:
    """What the run's display channel holds for the cells in ``shown`` (the plan's answer and
    course cells; never a test cell): ``{index: {"text": str, "png": [base64]}}``, display only.
    Lines outside the schema, for other cells, or past ``MAX_OUTPUT_CHARS`` are left out."""
    outputs, budget = {}, MAX_OUTPUT_CHARS
    for raw in display.split(b"\n"):
        try:
            message = json.loads(raw.decode("utf-8")) if raw and len(raw) <= MAX_LINE_BYTES else None
        except (ValueError, UnicodeDecodeError, RecursionError, MemoryError):
            continue
        if type(message) is not dict or message.get("t") != OUTPUT:
            continue
        index, text, pngs = message.get("index"), message.get("text", ""), message.get("png", [])
        if type(index) is not int or index not in shown or index in outputs or type(text) is not str \
                or type(pngs) is not list or len(text) > OUTPUT_CHARS or len(pngs) > OUTPUT_FIGURES \
                or not all(type(p) is str and len(p) <= OUTPUT_PNG_CHARS for p in pngs):
            continue
        size = len(text) + sum(len(p) for p in pngs)
        if budget >= size:
            budget -= size
            outputs[index] = {"text": text, "png": pngs}
    return outputs


def parse(report: bytes) -> RunReport:
    """Read the runner's JSON lines (``rnnlab_runner.protocol``) as plain data."""
    result, budget = RunReport(), [MAX_REPORT_NUMBERS]
    for raw in report.split(b"\n"):
        if not raw:
            continue
        try:
            if len(raw) > MAX_LINE_BYTES:
                raise Malformed("line too long")
            message = json.loads(raw.decode("utf-8"))
            if type(message) is not dict:
                raise Malformed("not an object")
            kind = message.get("t")
            if kind == CELL:
                index, status, error, line = (message.get(k) for k in ("index", "status", "error", "line"))
                if type(index) is not int or status not in ("pass", "fail", "timeout") or type(error) is not str \
                        or type(line) is not int:
                    raise Malformed("cell fields")
                records = message.get("records", [])
                if type(records) is not list or len(records) > MAX_ENTRIES:
                    raise Malformed("records")
                entries = tuple(_entry(r, budget) for r in records)
                record = CellRecord(status, error if ERROR_NAME.fullmatch(error) else OTHER_ERROR,
                                    line if 0 <= line < MAX_LINE else 0, entries)
                result.cells.setdefault(index, []).append(record)
            elif kind == FLAG:
                name = message.get("name")
                result.flags.add(name if type(name) is str and TOKEN.fullmatch(name) else "unnamed")
            elif kind == END:
                result.finished = True
            else:
                raise Malformed("kind")
        except (Malformed, ValueError, UnicodeDecodeError, RecursionError, MemoryError, TypeError):
            result.malformed_lines += 1
    if any(len(records) > 1 for records in result.cells.values()):
        result.flags.add("duplicate-verdicts")
    if result.malformed_lines:
        result.flags.add("malformed-report-lines")
    return result


# --- comparing a student's value with the solution's ------------------------------------------------

def _number(value):
    """A scalar as (float, dtype) if ``value`` is a number or a one-element array, else None."""
    if type(value) in (int, float):
        return float(value), "float64"
    if type(value) is Array and value.values.size == 1:
        return float(value.values.reshape(())), value.dtype
    return None


def _array(value):
    if type(value) is Array:
        return value.values, value.dtype
    if type(value) is list:
        try:
            numbers = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        return numbers, "float64"
    return None


FLOAT32_TINY = float(np.finfo(np.float32).tiny)  # the smallest normal float32 (1.2e-38)


def low_precision(*dtypes: str) -> bool:
    """Whether any of the recorded dtypes (``"torch.float32"``, ``"float16"``, ...) is float32 or lower."""
    return any(d.removeprefix("torch.") in LOW_PRECISION for d in dtypes)


def _close_arrays(ours: np.ndarray, reference: np.ndarray, rtol: float, atol: float, axis,
                  low_precision: bool = False) -> bool:
    """Whether ``ours`` matches ``reference`` within ``atol + rtol * |reference|`` (per slice along
    ``axis``). ``low_precision``: an answer computed in float32 or lower, compared in its own terms:
    values below float32's smallest normal number, on either side, count as 0 (float32 cannot
    hold them; a 0 there is the right float32 answer, not a mismatch)."""
    if ours.shape != reference.shape:
        return False
    if low_precision:
        ours = np.where(np.abs(ours) < FLOAT32_TINY, 0.0, ours)
        reference = np.where(np.abs(reference) < FLOAT32_TINY, 0.0, reference)
    if not np.array_equal(np.isnan(ours), np.isnan(reference)):
        return False
    infinite = np.isinf(reference)
    if not np.array_equal(np.isinf(ours), infinite) or not np.array_equal(ours[infinite], reference[infinite]):
        return False
    finite = np.where(np.isfinite(reference), reference, 0.0)
    mine = np.where(np.isfinite(reference), ours, 0.0)
    if mine.ndim == 0 or axis is None or not -mine.ndim <= axis < mine.ndim:
        return bool(np.linalg.norm((mine - finite).ravel()) <= atol + rtol * np.linalg.norm(finite.ravel()))
    a = np.moveaxis(mine, axis, 0).reshape(mine.shape[axis], -1)
    b = np.moveaxis(finite, axis, 0).reshape(finite.shape[axis], -1)
    return bool(np.all(np.linalg.norm(a - b, axis=1) <= atol + rtol * np.linalg.norm(b, axis=1)))


def kind_of(value) -> str:
    """int, float, bool, str, None, list, dict, tensor or ndarray: what ``same_type`` compares."""
    if type(value) is Array:
        return "tensor" if value.dtype.startswith("torch.") else "ndarray"
    return type(value).__name__


def same(ours, reference, options: dict) -> bool:
    """Whether the student's plain value matches the solution's under the solution's ``options``."""
    if options.get("same_type") is True and kind_of(ours) != kind_of(reference):
        return False
    rtol, atol, rtol32 = (float(options.get(k, d)) if type(options.get(k, d)) in (int, float) else d
                          for k, d in (("rtol", 1e-6), ("atol", 0.0), ("rtol32", 1e-4)))
    axis = options.get("axis") if type(options.get("axis")) is int else None

    def tolerance(*dtypes):
        return max(rtol, rtol32) if low_precision(*dtypes) else rtol

    if reference is None or type(reference) in (bool, str):
        return type(ours) is type(reference) and ours == reference
    if type(reference) in (int, float):
        mine = _number(ours)
        if mine is None or type(ours) is bool:
            return False
        if math.isnan(reference) or math.isinf(reference):
            return mine[0] == reference or (math.isnan(reference) and math.isnan(mine[0]))
        if type(reference) is int and type(ours) is int:
            return ours == reference
        if low_precision(mine[1]) and max(abs(mine[0]), abs(reference)) < FLOAT32_TINY:
            return True  # both below what float32 holds: the same float32 answer
        return abs(mine[0] - reference) <= atol + tolerance(mine[1]) * abs(reference)
    if type(reference) is Array:
        mine = _array(ours)
        if (mine is None or mine[0].shape != reference.values.shape) and reference.values.size == 1 \
                and (number := _number(ours)) is not None:  # a one-element value against a one-element reference
            mine = (np.full(reference.values.shape, number[0]), number[1])
        if mine is None:
            return False
        return _close_arrays(mine[0], reference.values, tolerance(mine[1], reference.dtype), atol, axis,
                             low_precision(mine[1], reference.dtype))
    if type(reference) is list:
        return type(ours) is list and len(ours) == len(reference) and all(
            same(a, b, options) for a, b in zip(ours, reference))
    if type(reference) is dict:
        return type(ours) is dict and set(ours) == set(reference) and all(
            same(ours[k], reference[k], options) for k in reference)
    return False


@dataclass(frozen=True)
class Context:
    """What the grader knows about the submission from its source text alone (never from its run):
    the code its student cells define (``source_checks.definitions``) and the names its pair cell
    assigns in quotes."""

    definitions: dict
    pair_names: tuple[str, str]


def judge(ours: CellRecord | None, reference: CellRecord, context: Context) -> CellRecord | None:
    """The verdict of one test cell: ``reference`` is the solution's run of it (no submission code),
    ``ours`` the student's claim. Returns None when the cell never ran, else a record whose status
    is ``pass`` only if the cell finished and every check agrees (see the module docstring)."""
    if ours is None:
        return None
    if ours.status != "pass":
        return CellRecord(ours.status, ours.error, ours.line)
    values = [e for e in reference.entries if e.kind == "value"]
    claimed = [e for e in ours.entries if e.kind == "value"]
    for position, expected in enumerate(values):
        if position >= len(claimed):
            return CellRecord("fail", "ValueMissing", expected.line, entry=expected.name)
        got = claimed[position]
        if got.name != expected.name or not same(got.value, expected.value, expected.options):
            return CellRecord("fail", "ValueMismatch", expected.line, entry=expected.name)
    if len(claimed) > len(values):
        return CellRecord("fail", "ValueExtra", values[-1].line if values else 0)
    for check in reference.entries:
        if check.kind == "source":
            used = source_checks.forbidden_names(context.definitions, check.name, check.options.get("forbid", ()))
            if used is None:
                return CellRecord("fail", "DefinitionNotFound", check.line)
            if used:
                return CellRecord("fail", "SourceCheck", check.line)
        elif check.kind == "pair":
            if pair_problem(*context.pair_names):
                return CellRecord("fail", "PairNames", check.line)
    return CellRecord("pass", "-", ours.line)
