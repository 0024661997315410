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
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import markupsafe
import numpy as np

from . import repair, submissions
from .cells import grade_id, is_answer
from .credits import Credits
from .identity import Claim

THRESHOLD = 0.6
MIN_ANSWER_TOKENS = 40
MIN_SHARED_FINGERPRINTS = 8
COMMON_MIN = 60
MAX_ORDERED = 300  # statements in one block put in canonical order (the sort is quadratic)
MAX_CELL_CHARS = 50_000  # longer cells are compared as their lines
DETAILED = 100  # matches shown side by side on the page (all are listed in its table)
NOISE_T, GUARANTEE_T = 25, 25  # copydetect's defaults: every k-gram kept (window 1), so scores do not depend on Python's hash seed


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
            if not (isinstance(a, SIMPLE) and isinstance(b, SIMPLE)) or isinstance(a, ast.Expr) or isinstance(b, ast.Expr):
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
    tree = repair.parse_cell("\n".join(lines)) if len(source) <= MAX_CELL_CHARS else None
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


def compared_cells(release: submissions.Release) -> Compared:
    """The answer cells worth comparing (solution of at least ``MIN_ANSWER_TOKENS`` tokens) and the
    release's own code as boilerplate."""
    from copydetect import CodeFingerprint

    cells, left_out = [], []
    for cell in release.solution.cells:
        if is_answer(cell) and cell.cell_type == "code":
            gid = grade_id(cell)
            solution = normalise(submissions.HIDDEN_MARKERS.sub("", cell.source).replace("### BEGIN SOLUTION", "")
                                 .replace("### END SOLUTION", ""))
            (cells if gid != "pair_names" and _tokens(solution) >= MIN_ANSWER_TOKENS else left_out).append(gid)
    given = "\n\n".join(normalise(c.source) for c in release.notebook.cells if c.cell_type == "code")
    hashes = CodeFingerprint("release.py", NOISE_T, GUARANTEE_T - NOISE_T + 1, fp=io.StringIO(given)).hashes
    boilerplate = np.array(sorted(hashes), dtype=np.int64)
    stubs = {grade_id(c): normalise(c.source) for c in release.notebook.cells if is_answer(c) and grade_id(c) in cells}
    return Compared(release.assignment, cells, left_out, boilerplate, stubs)


def document(notebook, release: submissions.Release, compared: Compared) -> str:
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
class Match:
    """Two files from different pairs whose answers overlap beyond the threshold."""

    assignment: str
    files: tuple[str, str]
    names: tuple[str, str]
    score: float
    shares: tuple[float, float]
    highlighted: tuple[str, str] = ("", "")


@dataclass
class Report:
    matches: list[Match] = field(default_factory=list)
    compared: dict[str, Compared] = field(default_factory=dict)
    files: int = 0
    comparisons: int = 0
    left_out: list[str] = field(default_factory=list)  # files that could not be fingerprinted


def _owners(record: dict, claim: Claim, credits: Credits) -> tuple[frozenset[str], frozenset[str]]:
    """(the names its pair cell claims with its submitter, the submitter with their confirmed partners)."""
    claimed = {claim.submitter, claim.partner} - {None, "self"}
    group = {claim.submitter} - {None}
    if claim.submitter and (entry := credits.by_student.get((claim.submitter, record.get("assignment")))):
        group |= set(entry.partners)
    return frozenset(claimed), frozenset(group)


def same_pair(a: tuple[frozenset, frozenset], b: tuple[frozenset, frozenset]) -> bool:
    """Partner copies or one student's copies: the same claimed pair, or a submitter in the other's
    confirmed pair. Naming someone as partner does not hide a copy of their answers."""
    return (bool(a[0]) and a[0] == b[0]) or bool(a[1] & b[1])


def find(records: list[dict], located: dict[str, Path], releases: list[submissions.Release], credits: Credits,
         threshold: float = THRESHOLD) -> Report:
    """Every pair of files from different pairs whose compared answers score ``threshold`` or more.
    ``located``: the graded files by SHA-256 (``submissions.files_by_hash``)."""
    from copydetect import CodeFingerprint, compare_files
    from copydetect.utils import highlight_overlap

    report = Report()
    regions: dict[int, tuple] = {}
    claims = {r.get("submission"): c for r, c in credits.claims}  # resolved once, by ``credits.credit``
    by_assignment = {r.assignment: r for r in releases}
    for assignment, release in by_assignment.items():
        compared = report.compared[assignment] = compared_cells(release)
        prints, units, names = {}, {}, {}
        for record in records:
            if record.get("assignment") != assignment or not record.get("sha256") or record["submission"] not in claims:
                continue
            path = located.get(record["sha256"])  # None: not there, or changed since it was graded
            if path is None:
                continue
            try:
                notebook = repair.restore(submissions.read_submission(path), release.notebook).notebook
            except (OSError, submissions.Unreadable, ValueError):
                continue
            try:  # one file that cannot be fingerprinted is left out, never the report
                text = document(notebook, release, compared)
                if _tokens(text) < MIN_ANSWER_TOKENS:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    prints[record["submission"]] = CodeFingerprint(
                        "answers.py", NOISE_T, GUARANTEE_T - NOISE_T + 1, boilerplate=compared.boilerplate,
                        fp=io.StringIO(text))
            except (RecursionError, MemoryError, ValueError):
                report.left_out.append(record["submission"])
                continue
            units[record["submission"]] = _owners(record, claims[record["submission"]], credits)
            names[record["submission"]] = " & ".join(n for n in (record.get("your_name", ""),
                                                                 record.get("your_partner_name", "")) if n)
        report.files += len(prints)
        index: dict[int, list[str]] = {}
        for name, fingerprint in prints.items():
            for h in fingerprint.hashes:
                index.setdefault(int(h), []).append(name)
        shared: dict[tuple[str, str], int] = {}
        common = max(COMMON_MIN, len(prints) // 2)
        for holders in index.values():
            if len(holders) > common:  # what half the class wrote is the course's idiom, not a copy
                continue
            for i, a in enumerate(holders):
                for b in holders[i + 1:]:
                    key = (a, b) if a < b else (b, a)
                    shared[key] = shared.get(key, 0) + 1
        for (a, b), count in sorted(shared.items()):
            if count < MIN_SHARED_FINGERPRINTS or same_pair(units[a], units[b]):
                continue
            report.comparisons += 1
            _, shares, slices = compare_files(prints[a], prints[b])
            score = float(max(shares))
            if score < threshold:
                continue
            match = Match(assignment, (a, b), (names[a], names[b]), score, (float(shares[0]), float(shares[1])))
            regions[id(match)] = ((prints[a].raw_code, slices[0]), (prints[b].raw_code, slices[1]))
            report.matches.append(match)
    report.matches.sort(key=lambda m: (-m.score, m.assignment, m.files))
    for match in report.matches[:DETAILED]:  # the matching regions, escaped, for the page
        match.highlighted = tuple(markupsafe.Markup(highlight_overlap(code, spans, "<mark>", "</mark>", truncate=8,
                                                                      escape_html=True)[0])
                                  for code, spans in regions[id(match)])
    return report


PAGE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Similar answers between pairs</title>
<style>body{font-family:sans-serif;margin:2em} .pair{display:flex;gap:1em} .pair pre{flex:1;overflow:auto;
background:#f6f8fa;padding:.5em;font-size:85%} mark{background:#ffe08a} td,th{padding:.2em .6em;text-align:left}</style>
</head><body>
<h1>Similar answers between pairs</h1>
<p>{{ report.files }} files compared ({{ report.comparisons }} pairs of files shared enough fingerprints to be
scored); {{ report.matches|length }} pairs from different pairs score {{ "%.2f"|format(threshold) }} or more.
A flag for a person to look at, never a verdict: no points were changed. Partner copies are never listed.</p>
<ul>{% for c in report.compared.values() %}<li>{{ c.assignment }}: compared {{ c.cells|join(", ") or "nothing" }};
left out as too short to tell copying from agreement: {{ c.left_out|join(", ") or "nothing" }}</li>{% endfor %}
{% if report.left_out %}<li>files that could not be fingerprinted: {{ report.left_out|join(", ") }}</li>{% endif %}</ul>
<table><tr><th>notebook</th><th>score</th><th>file</th><th>names</th><th>file</th><th>names</th></tr>
{% for m in report.matches %}<tr><td>{{ m.assignment }}</td><td><a href="#m{{ loop.index }}">{{ "%.2f"|format(m.score) }}</a></td>
<td>{{ m.files[0] }}</td><td>{{ m.names[0] }}</td><td>{{ m.files[1] }}</td><td>{{ m.names[1] }}</td></tr>
{% endfor %}</table>
{% if report.matches|length > detailed %}<p>The {{ detailed }} highest scores are shown side by side below.</p>{% endif %}
{% for m in report.matches[:detailed] %}<h2 id="m{{ loop.index }}">{{ m.assignment }}: {{ m.files[0] }} and {{ m.files[1] }}
({{ "%.2f"|format(m.score) }}; shares {{ "%.2f"|format(m.shares[0]) }} and {{ "%.2f"|format(m.shares[1]) }})</h2>
<div class="pair"><pre>{{ m.highlighted[0] }}</pre><pre>{{ m.highlighted[1] }}</pre></div>
{% endfor %}</body></html>
""")


def write_page(path: Path, report: Report, threshold: float = THRESHOLD) -> None:
    """The instructor's page: every match with its matching regions side by side (escaped)."""
    path.write_text(PAGE.render(report=report, threshold=threshold, detailed=DETAILED), encoding="utf-8")


def mark_records(records: list[dict], report: Report) -> None:
    """Set each per-file record's ``similar_to`` (the other files and scores) from ``report``."""
    similar: dict[str, list[str]] = {}
    for m in report.matches:
        similar.setdefault(m.files[0], []).append(f"{m.files[1]} ({m.score:.2f})")
        similar.setdefault(m.files[1], []).append(f"{m.files[0]} ({m.score:.2f})")
    for record in records:
        record["similar_to"] = "; ".join(similar.get(record.get("submission", ""), []))
