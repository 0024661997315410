"""Give a submitted notebook back the nbgrader metadata of its release version.

Colab (and some editors) drop cell metadata on download; nbgrader then grades the notebook
as if it had no graded cells and scores it 0 without a word. Students also delete, add
and reorder cells. This module aligns a submission with the release version:

1. *anchors*: release cells the student cannot usefully change (tests, locked markdown) are
   matched to submission cells of the same type with near-identical source, in order;
2. the *answer* cells (nbgrader ``solution``) between two anchors are aligned in order with
   the submission's cells there: a code cell matches if it defines a name its task cell
   mentions (``rnn_forward``, ``your_name``) or is at least 0.4 similar to it;
3. graded cells the student deleted are put back from the release version (nbgrader
   restores test cells from the gradebook anyway; a deleted answer scores 0);
4. cells the student added keep their place and carry no nbgrader metadata.

The result is a notebook nbgrader can autograde, plus a list of what was repaired.
"""
from __future__ import annotations

import collections
import copy
import difflib
import functools
import re
import uuid
from dataclasses import dataclass, field

import nbformat

from .cells import defined_names, is_answer, nbgrader_meta

ANCHOR_SIMILARITY = 0.8
MIN_ANSWER_SIMILARITY = 0.4  # measured: answers 0.66-0.72 to their stubs, other code cells <= 0.25
SIMILARITY_CHARS = 800
FUZZY_COMPARISONS = 300  # honest notebooks, stripped of metadata, use 3-11


def _first_line(source: str) -> str:
    return next((line.strip() for line in source.lstrip()[:1000].splitlines() if line.strip()), "")


def requested_names(stub: str) -> set[str]:
    """What a task cell of the release asks the student to define: the functions and names its
    stub defines, or the assignments its comments show (``# your_name = "..."``)."""
    shown = set(re.findall(r"^\s*#.*?\b([A-Za-z_]\w*)\s*=[^=]", stub, flags=re.M))
    return defined_names(stub) | shown


@functools.lru_cache(maxsize=2048)
def _clean(source: str) -> str:
    """The start of a cell's source (whitespace at line ends ignored): cells are told apart by
    their first ``SIMILARITY_CHARS`` characters, which bounds each comparison."""
    return "\n".join(line.rstrip() for line in source.strip()[: 2 * SIMILARITY_CHARS].splitlines())[:SIMILARITY_CHARS]


class Budget:
    """How many full (quadratic) comparisons one restoration may still make. A notebook built to
    make alignment slow gets exact and name matches only once it is spent; honest notebooks use
    a few hundred."""

    def __init__(self, comparisons: int = FUZZY_COMPARISONS):
        self.left = comparisons

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def similarity(a: str, b: str, at_least: float = 0.0, budget: Budget | None = None) -> float:
    """0..1 similarity of two cell sources; 0 when it is certainly below ``at_least`` (cheap
    upper bounds first) or when ``budget`` is spent."""
    clean_a, clean_b = _clean(a), _clean(b)
    if clean_a == clean_b:
        return 1.0
    total = len(clean_a) + len(clean_b)
    if at_least and 2 * min(len(clean_a), len(clean_b)) < at_least * total:
        return 0.0  # difflib's real_quick_ratio, from the lengths alone
    if at_least and 2 * sum((_characters(clean_a) & _characters(clean_b)).values()) < at_least * total:
        return 0.0  # difflib's quick_ratio, from character counts
    if budget is not None and not budget.take():
        return 0.0
    return difflib.SequenceMatcher(None, clean_a, clean_b, autojunk=False).ratio()


@functools.lru_cache(maxsize=2048)
def _characters(text: str) -> collections.Counter:
    return collections.Counter(text)


@dataclass
class Restoration:
    """The repaired notebook and what was done to it."""

    notebook: nbformat.NotebookNode
    restored: list[str] = field(default_factory=list)   # grade_ids whose metadata was put back
    reinserted: list[str] = field(default_factory=list)  # grade_ids of deleted cells put back

    def summary(self) -> str:
        parts = []
        if self.restored:
            parts.append(f"metadata restored on {len(self.restored)} cells")
        if self.reinserted:
            parts.append(f"deleted cells put back: {', '.join(self.reinserted)}")
        return "; ".join(parts)


def _match_anchors(release_cells, submitted_cells, budget: Budget) -> dict[int, int]:
    """release index -> submission index for locked/test cells, monotonic in both."""
    matches, start = {}, 0
    for i, cell in enumerate(release_cells):
        meta = nbgrader_meta(cell)
        if not meta or meta.get("solution"):
            continue
        best, best_score = None, ANCHOR_SIMILARITY
        for j in range(start, len(submitted_cells)):
            other = submitted_cells[j]
            if other.cell_type != cell.cell_type:
                continue
            if nbgrader_meta(other).get("grade_id") == meta["grade_id"]:
                best, best_score = j, 2.0
                break
            score = similarity(cell.source, other.source, at_least=best_score, budget=budget)
            if score > best_score:
                best, best_score = j, score
            if score == 1.0:
                break
        if best is not None:
            matches[i] = best
            start = best + 1
    return matches


def _align(answers: list[int], candidates: list[int], score) -> dict[int, int]:
    """Match answer cells to candidate cells in order (both ascending), maximising the total
    similarity; an answer may stay unmatched (deleted). Returns answer -> candidate."""
    n, m = len(answers), len(candidates)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for a in range(n - 1, -1, -1):
        for c in range(m - 1, -1, -1):
            best[a][c] = max(best[a + 1][c], best[a][c + 1], score(answers[a], candidates[c]) + best[a + 1][c + 1])
    matches, a, c = {}, 0, 0
    while a < n and c < m:
        if best[a][c] == score(answers[a], candidates[c]) + best[a + 1][c + 1]:
            matches[answers[a]] = candidates[c]
            a, c = a + 1, c + 1
        elif best[a][c] == best[a + 1][c]:
            a += 1
        else:
            c += 1
    return matches


def _match_answers(release_cells, submitted_cells, anchors: dict[int, int], budget: Budget) -> dict[int, int]:
    """release index -> submission index for answer cells, aligned in order between anchors."""
    matches = dict(anchors)
    answers = [i for i, cell in enumerate(release_cells) if is_answer(cell)]
    groups: dict[tuple[int, int], list[int]] = {}
    for i in answers:  # answers that sit between the same two anchors share their candidates
        low = max((anchors[k] for k in anchors if k < i), default=-1)
        high = min((anchors[k] for k in anchors if k > i), default=len(submitted_cells))
        groups.setdefault((low, high), []).append(i)

    @functools.cache
    def score(i: int, j: int) -> float:
        """> 0 for a plausible match, higher for a better one."""
        cell, other = release_cells[i], submitted_cells[j]
        if cell.cell_type != other.cell_type:
            return -1.0
        if nbgrader_meta(other).get("grade_id") == nbgrader_meta(cell)["grade_id"]:
            return 3.0
        if _first_line(cell.source) and _first_line(cell.source) == _first_line(other.source):
            return 1.5  # students write below the stub's first line ("**Your answer:**", "def f(...):")
        if cell.cell_type == "markdown":  # answers alone between their question anchors
            return 0.01 + similarity(cell.source, other.source, budget=budget)
        if defined_names(other.source) & requested_names(cell.source):
            return 2.0  # it defines what the task cell asks for (rnn_forward, your_name, ...)
        likeness = similarity(cell.source, other.source, at_least=MIN_ANSWER_SIMILARITY, budget=budget)
        return likeness if likeness >= MIN_ANSWER_SIMILARITY else -1.0

    for (low, high), group in groups.items():
        candidates = [j for j in range(low + 1, high) if j not in anchors.values()]
        matches.update({i: j for i, j in _align(group, candidates, score).items() if score(i, j) > 0})
    return matches


def restore(submission: nbformat.NotebookNode, release: nbformat.NotebookNode) -> Restoration:
    """Align ``submission`` with ``release`` and return the repaired copy (inputs untouched)."""
    submitted = copy.deepcopy(submission)
    release_cells, cells = release.cells, submitted.cells
    budget = Budget()
    matches = _match_answers(release_cells, cells, _match_anchors(release_cells, cells, budget), budget)
    result = Restoration(submitted)
    graded_ids = {nbgrader_meta(c).get("grade_id") for c in release_cells if nbgrader_meta(c)}
    matched = set(matches.values())
    for j, cell in enumerate(cells):  # stale, foreign or copied metadata (a duplicated cell) would confuse the grader
        if j not in matched or nbgrader_meta(cell).get("grade_id") not in graded_ids:
            cell.get("metadata", {}).pop("nbgrader", None)
    for i, j in matches.items():
        meta = copy.deepcopy(nbgrader_meta(release_cells[i]))
        if nbgrader_meta(cells[j]).get("grade_id") != meta["grade_id"]:
            result.restored.append(meta["grade_id"])
        cells[j].setdefault("metadata", {})["nbgrader"] = meta
    # put deleted graded cells back, after the submission cell matched to their predecessor
    ordered, inserted_after = [], {}
    for i, cell in enumerate(release_cells):
        if nbgrader_meta(cell) and i not in matches:
            before = max((matches[k] for k in matches if k < i), default=-1)
            restored_cell = copy.deepcopy(cell)
            restored_cell["id"] = uuid.uuid4().hex[:8]  # the release id may still be in use
            inserted_after.setdefault(before, []).append(restored_cell)
            result.reinserted.append(nbgrader_meta(cell)["grade_id"])
    ordered.extend(inserted_after.get(-1, []))
    for j, cell in enumerate(cells):
        ordered.append(cell)
        ordered.extend(inserted_after.get(j, []))
    submitted.cells = ordered
    ids = [nbgrader_meta(c)["grade_id"] for c in submitted.cells if nbgrader_meta(c)]
    if len(ids) != len(set(ids)):
        raise ValueError("restoring metadata produced duplicate grade_ids")
    return result
