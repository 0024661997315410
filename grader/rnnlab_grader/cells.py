"""The nbgrader cell-metadata questions, in one place (as nbgrader's own ``utils.is_grade``).

* a *test*: an autograded test cell (``grade`` without ``solution``), worth ``points``;
* an *answer*: a cell the student writes (``solution``), code or a written answer;
* a *course* cell: locked and not an answer (setup, data, experiments, tests, task text).
"""
from __future__ import annotations


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata (empty if it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


def is_answer(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_course(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("locked")) and not meta.get("solution")


def grade_id(cell) -> str | None:
    return nbgrader_meta(cell).get("grade_id")
