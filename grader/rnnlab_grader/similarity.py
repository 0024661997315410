"""Answers copied between pairs, for a person to look at (``make grade`` writes
``grades-similarity.html``; the by-file table's ``similar_to`` column and the per-student table's
flag point at it). A flag, never a verdict: points do not change.

Each graded file becomes one document: its **answer cells** in the release's order (what the
student wrote, not the release's stubs, the course cells or the tests), each normalised so that
what honest students share or a disguise changes does not count:

* parsed and printed again (``ast.unparse``): comments, blank lines, spacing and docstrings gone;
* the TODO cells whose solution is short (under ``MIN_ANSWER_TOKENS`` tokens, such as the pair
  cell or a one-line formula) left out, because every correct answer looks alike there; the
  page lists them;
* fingerprinted by ``copydetect`` (MOSS-style winnowing of k-grams over the token stream with
  names replaced by placeholders, so renamed variables and functions match), with the release's
  own code as boilerplate (signatures and given lines never count).

Two files are compared only when they share fingerprints (an inverted index: a class of 800
files costs seconds, not 320,000 comparisons) and come from different pairs: a student's own
copies and partner copies (both files in one confirmed pair, or one pair cell's two names) are
never reported. The score of two files is the larger of their two shares of copied tokens;
``THRESHOLD`` was chosen from the scores of disguised copies against independent correct answers
(``benchmarks/bench_similarity.py``). The page escapes every character a student wrote.
"""
from __future__ import annotations

import ast
import copy
import io
import tokenize
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import markupsafe
import nbformat
import numpy as np

from . import templates
from .cells import HIDDEN_MARKERS, grade_id, is_answer, parse_cell
from .credits import Credits
from .identity import Authorship
from .releases import Release
from .results import FileResult, GradedCopy, SimilarFile

THRESHOLD = 0.6
MIN_ANSWER_TOKENS = 40
MIN_SHARED_FINGERPRINTS = 8
COMMON_MIN = 60
MAX_ORDERED = 300  # statements in one block put in canonical order (the sort is quadratic)
MAX_CELL_CHARS = 50_000  # longer cells are compared as their lines
DETAILED = 100  # matches shown side by side on the page (all are listed in its table)
# copydetect's defaults: every k-gram kept (window 1), so scores do not depend on Python's hash seed
NOISE_T, GUARANTEE_T = 25, 25


class _Shape(ast.NodeTransformer):
    """Every identifier replaced by ``_``: the shape of a statement, whatever it names."""

    def visit_Name(self, node):
        return ast.copy_location(ast.Name("_", node.ctx), node)

    def visit_Attribute(self, node):
        self.generic_visit(node)
        node.attr = "_"
        return node


def _shape(node) -> str:
    try:
        return ast.unparse(_Shape().visit(copy.deepcopy(node)))
    except (ValueError, RecursionError, AttributeError):
        return ""


def _names(node, ctx) -> set[str]:
    found = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ctx):
            found.add(n.id)
        elif isinstance(n, ast.Attribute) and isinstance(n.ctx, ctx):
            found.add("." + n.attr)
    return found


SIMPLE = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)


def _canonical_order(body: list) -> None:
    """Sort runs of adjacent simple statements that neither read nor write what the other writes
    by their shape, so that reordering independent statements changes nothing."""
    if len(body) > MAX_ORDERED:  # a cell this long is not an answer a TODO asks for: left as it is
        return
    shapes = {id(n): _shape(n) for n in body if isinstance(n, SIMPLE)}
    changed, passes = True, 0
    while changed and passes < len(body):
        changed, passes = False, passes + 1
        for i in range(len(body) - 1):
            a, b = body[i], body[i + 1]
            if not (isinstance(a, SIMPLE) and isinstance(b, SIMPLE)) or isinstance(a, ast.Expr) \
                    or isinstance(b, ast.Expr):
                continue
            wa, wb = _names(a, ast.Store), _names(b, ast.Store)
            ra, rb = _names(a, ast.Load), _names(b, ast.Load)
            if wa & (rb | wb) or wb & ra:
                continue
            if shapes[id(b)] < shapes[id(a)]:
                body[i], body[i + 1] = b, a
                changed = True


def _is_dead(node, read: set[str]) -> bool:
    """``if False:`` blocks, ``pass``, and constants assigned to names nothing reads."""
    if isinstance(node, ast.Pass):
        return True
    if isinstance(node, ast.If) and isinstance(node.test, ast.Constant) and not node.test.value and not node.orelse:
        return True
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id not in read for t in node.targets):
        return all(isinstance(n, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.List, ast.Tuple, ast.Dict, ast.operator,
                                  ast.unaryop, ast.expr_context)) for n in ast.walk(node.value))
    return False


def normalise(source: str) -> str:
    """A code cell as compared: printed again from its syntax tree, without comments, docstrings,
    blank lines, magics or dead code (``if False:`` blocks, constants nothing reads), with runs of
    independent statements in one canonical order; a cell that does not parse keeps its lines,
    minus comments."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = parse_cell("\n".join(lines)) if len(source) <= MAX_CELL_CHARS else None
    if tree is None:
        return "\n".join(line for line in lines if line.strip() and not line.lstrip().startswith("#"))
    tree = copy.deepcopy(tree)  # parse_cell's trees are shared
    read = _names(tree, ast.Load)
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if not (isinstance(body, list) and body and isinstance(body[0], ast.stmt)):
                continue
            if name == "body" and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                body.pop(0)  # a docstring
            body[:] = [n for n in body if not _is_dead(n, read)]
            _canonical_order(body)
            if not body and not isinstance(node, ast.Module):
                body.append(ast.Pass())
    try:
        return ast.unparse(tree)
    except (ValueError, RecursionError):
        return "\n".join(lines)


def _tokens(source: str) -> int:
    try:
        return sum(1 for t in tokenize.generate_tokens(io.StringIO(source).readline)
                   if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                                     tokenize.COMMENT, tokenize.ENDMARKER))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return len(source.split())


@dataclass
class Compared:
    """What the fingerprints cover for one release: the TODO cells compared and those left out."""

    assignment: str
    cells: list[str]
    left_out: list[str]
    boilerplate: object
    stubs: dict[str, str]  # grade_id -> the release's stub, normalised


def compared_cells(release: Release) -> Compared:
    """The answer cells worth comparing (solution of at least ``MIN_ANSWER_TOKENS`` tokens) and the
    release's own code as boilerplate."""
    from copydetect import CodeFingerprint

    cells, left_out = [], []
    for cell in release.solution.cells:
        if is_answer(cell) and cell.cell_type == "code":
            gid = grade_id(cell)
            solution = normalise(HIDDEN_MARKERS.sub("", cell.source).replace("### BEGIN SOLUTION", "")
                                 .replace("### END SOLUTION", ""))
            (cells if gid != "pair_names" and _tokens(solution) >= MIN_ANSWER_TOKENS else left_out).append(gid)
    given = "\n\n".join(normalise(c.source) for c in release.notebook.cells if c.cell_type == "code")
    hashes = CodeFingerprint("release.py", NOISE_T, GUARANTEE_T - NOISE_T + 1, fp=io.StringIO(given)).hashes
    boilerplate = np.array(sorted(hashes), dtype=np.int64)
    stubs = {grade_id(c): normalise(c.source) for c in release.notebook.cells if is_answer(c) and grade_id(c) in cells}
    return Compared(release.assignment, cells, left_out, boilerplate, stubs)


def document(notebook, release: Release, compared: Compared) -> str:
    """One repaired submission's compared answer cells, normalised, in the release's order
    (a cell left as the release's stub contributes nothing)."""
    parts = {}
    for cell in notebook.cells:
        gid = grade_id(cell)
        if cell.cell_type == "code" and gid in compared.cells and is_answer(cell):
            text = normalise(cell.source)
            if text.strip() and text != compared.stubs.get(gid):
                parts[gid] = text
    return "\n\n".join(parts[g] for g in compared.cells if g in parts)


@dataclass
class SimilarPair:
    """Two files from different pairs whose answers overlap beyond the threshold."""

    assignment: str
    files: tuple[str, str]
    names: tuple[str, str]
    score: float
    shares: tuple[float, float]
    highlighted: tuple[str, str] = ("", "")


@dataclass
class Similarities:
    """What ``find`` found: the pairs over the threshold, what was compared, and what was not."""

    matches: list[SimilarPair] = field(default_factory=list)
    compared: dict[str, Compared] = field(default_factory=dict)
    files: int = 0
    comparisons: int = 0
    left_out: list[str] = field(default_factory=list)  # files that could not be fingerprinted


def _owners(result: FileResult, claim: Authorship, credits: Credits) -> tuple[frozenset[str], frozenset[str]]:
    """(the names its pair cell claims with its submitter, the submitter with their confirmed partners)."""
    claimed = {claim.submitter, claim.partner} - {None, "self"}
    group = {claim.submitter} - {None}
    if claim.submitter and (entry := credits.by_student.get((claim.submitter, result.assignment))):
        group |= set(entry.partners)
    return frozenset(claimed), frozenset(group)


def same_pair(a: tuple[frozenset, frozenset], b: tuple[frozenset, frozenset]) -> bool:
    """Partner copies or one student's copies: the same claimed pair, or a submitter in the other's
    confirmed pair. Naming someone as partner does not hide a copy of their answers."""
    return (bool(a[0]) and a[0] == b[0]) or bool(a[1] & b[1])


def fingerprint(graded: GradedCopy, release: Release, compared: Compared):
    """The fingerprint of one graded copy's compared answers; None when there is too little to compare."""
    from copydetect import CodeFingerprint

    notebook = nbformat.reads(graded.notebook, as_version=4)
    text = document(notebook, release, compared)
    if _tokens(text) < MIN_ANSWER_TOKENS:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CodeFingerprint("answers.py", NOISE_T, GUARANTEE_T - NOISE_T + 1, boilerplate=compared.boilerplate,
                               fp=io.StringIO(text))


def _shared_counts(prints: dict) -> dict[tuple[str, str], int]:
    """How many fingerprints each two files share, through an inverted index; a fingerprint more
    than half the class holds (at least ``COMMON_MIN`` files) is the course's idiom and not counted."""
    index: dict[int, list[str]] = {}
    for name, fingerprint in prints.items():
        for h in fingerprint.hashes:
            index.setdefault(int(h), []).append(name)
    shared: dict[tuple[str, str], int] = {}
    common = max(COMMON_MIN, len(prints) // 2)
    for holders in index.values():
        if len(holders) > common:
            continue
        for i, a in enumerate(holders):
            for b in holders[i + 1:]:
                key = (a, b) if a < b else (b, a)
                shared[key] = shared.get(key, 0) + 1
    return shared


def _one_assignment(report: Similarities, release: Release, results: list[FileResult],
                    copies: Callable[[FileResult], GradedCopy | None], credits: Credits, threshold: float,
                    regions: dict) -> None:
    from copydetect import compare_files

    compared = report.compared[release.assignment] = compared_cells(release)
    claims = {r.path: c for r, c in credits.authorships if r.assignment == release.assignment}
    prints, units, names = {}, {}, {}
    for result in results:
        if result.assignment != release.assignment or result.path not in claims:
            continue
        graded = copies(result)
        if graded is None:
            continue
        try:  # one file that cannot be fingerprinted is left out, never the report
            found = fingerprint(graded, release, compared)
        except (RecursionError, MemoryError, ValueError, KeyError, TypeError, AttributeError):
            report.left_out.append(result.path)
            continue
        if found is None:
            continue
        prints[result.path] = found
        units[result.path] = _owners(result, claims[result.path], credits)
        names[result.path] = " & ".join(n for n in (result.your_name, result.your_partner_name) if n)
    report.files += len(prints)
    for (a, b), count in sorted(_shared_counts(prints).items()):
        if count < MIN_SHARED_FINGERPRINTS or same_pair(units[a], units[b]):
            continue
        report.comparisons += 1
        _, shares, slices = compare_files(prints[a], prints[b])
        score = float(max(shares))
        if score >= threshold:
            match = SimilarPair(release.assignment, (a, b), (names[a], names[b]), score,
                                (float(shares[0]), float(shares[1])))
            regions[id(match)] = ((prints[a].raw_code, slices[0]), (prints[b].raw_code, slices[1]))
            report.matches.append(match)


def find(results: list[FileResult], copies: Callable[[FileResult], GradedCopy | None],
         releases: list[Release], credits: Credits, threshold: float = THRESHOLD) -> Similarities:
    """Every pair of files from different pairs whose compared answers score ``threshold`` or more.
    ``copies``: each result's graded copy (``store.Store.copy_of``), so no submitted file is read again."""
    from copydetect.utils import highlight_overlap

    report, regions = Similarities(), {}
    for release in releases:
        _one_assignment(report, release, results, copies, credits, threshold, regions)
    report.matches.sort(key=lambda m: (-m.score, m.assignment, m.files))
    for match in report.matches[:DETAILED]:  # the matching regions, escaped, for the page
        match.highlighted = tuple(markupsafe.Markup(highlight_overlap(code, spans, "<mark>", "</mark>", truncate=8,
                                                                      escape_html=True)[0])
                                  for code, spans in regions[id(match)])
    return report


def similar_files(report: Similarities) -> dict[tuple[str, str], tuple[SimilarFile, ...]]:
    """(assignment, path) -> the other files it is similar to, with their scores."""
    similar: dict[tuple[str, str], list[SimilarFile]] = {}
    for m in report.matches:
        similar.setdefault((m.assignment, m.files[0]), []).append(SimilarFile(m.files[1], m.score))
        similar.setdefault((m.assignment, m.files[1]), []).append(SimilarFile(m.files[0], m.score))
    return {key: tuple(files) for key, files in similar.items()}


SIMILARITY_PAGE = templates.get_template("similarity.html")


def write_page(path: Path, report: Similarities, threshold: float = THRESHOLD) -> None:
    """The instructor's page: every match with its matching regions side by side (escaped)."""
    path.write_text(SIMILARITY_PAGE.render(report=report, threshold=threshold, detailed=DETAILED), encoding="utf-8")
