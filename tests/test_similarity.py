"""The similarity report between pairs (``rnnlab_grader.similarity``) on the real notebooks: a
disguised copy is reported against its source, independent correct answers in other styles and
partner copies are not, and the page shows a student's ``<script>`` as text. No sandbox: the
report reads each file's graded copy (as ``prepare`` restored it) and the typed results."""
import dataclasses

import nbformat
import pytest

from disguise import disguise
from fair_variants import VARIANTS
from notebook_tools import ROOT
from rnnlab_grader import credits, identity, prepare, similarity, standing, submissions, tables
from rnnlab_grader.cells import HIDDEN_MARKERS
from rnnlab_grader.releases import load_releases
from rnnlab_grader.results import FileResult, GradedCopy
from test_fair_scores import submission

ASSIGNMENT = "01_bptt_by_hand"


@pytest.fixture(scope="module")
def releases():
    return load_releases(ROOT)


def _disguised(assignment, releases, style=None, seed=0):
    release = next(r for r in releases if r.assignment == assignment)
    keep = submissions.answer_names(release) | {"softmax_cross_entropy"}
    sources = {g: v[style] for g, v in VARIANTS[assignment].items()} if style is not None else None
    notebook = submission(assignment, sources or {})
    for cell in notebook.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in similarity.compared_cells(release).cells:
            cell.source = disguise(cell.source, keep, seed)
    return notebook


def _result(path, name, me, partner, assignment, releases):
    """A graded file's result with its graded copy, as the pipeline makes it (no run: 5 points)."""
    prepared = prepare.prepare(path, releases)
    return FileResult(name, prepared.sha256, assignment, me, partner, points=5.0, copy=GradedCopy(prepared.restored))


def _grade(folder, notebooks, assignment, releases):
    results = []
    for name, (notebook, me, partner) in notebooks.items():
        path = folder / f"{name}.ipynb"
        nbformat.write(notebook, path)
        results.append(_result(path, path.name, me, partner, assignment, releases))
    return results


def _copy(result):
    return result.copy


def test_copies_are_reported_and_independent_answers_and_partners_are_not(tmp_path, releases):
    styles = VARIANTS[ASSIGNMENT]
    notebooks = {
        "solution-pair": (submission(ASSIGNMENT, {}), "Ada Lovelace", "Grace Hopper"),
        "partner-copy": (submission(ASSIGNMENT, {}), "Grace Hopper", "Ada Lovelace"),       # the same pair
        "style0": (submission(ASSIGNMENT, {g: v[0] for g, v in styles.items()}), "Alan Turing", "self"),
        "style1": (submission(ASSIGNMENT, {g: v[1] for g, v in styles.items()}), "Mia Wong", "Sol Alone"),
        "disguised-copy": (_disguised(ASSIGNMENT, releases, style=0, seed=3), "Eve Copier", "self"),
    }
    script = "<script>document.title='PWNED'</script>"
    notebooks["disguised-copy"][0].cells.append(nbformat.v4.new_code_cell(f"x = 1  # {script}"))
    for cell in notebooks["disguised-copy"][0].cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "clip_by_global_norm":
            cell.source += f"\n# {script}\nprint({script!r})\n"
    results = _grade(tmp_path, notebooks, ASSIGNMENT, releases)
    people = identity.People(None)
    table = credits.credit(results, [ASSIGNMENT], people)
    found = similarity.find(results, _copy, releases, table)
    pairs = {frozenset(m.files): m.score for m in found.matches}
    assert pairs.keys() == {frozenset({"style0.ipynb", "disguised-copy.ipynb"})}, pairs
    assert pairs[frozenset({"style0.ipynb", "disguised-copy.ipynb"})] >= 0.9
    page = tmp_path / "similarity.html"
    similarity.write_page(page, found)
    text = page.read_text()
    assert "<script>document" not in text and "&lt;script&gt;" in text and "<mark>" in text
    similar = similarity.similar_files(found)
    marked = [dataclasses.replace(r, similar=similar.get(r.key, ())) for r in results]
    by_file = {r.path: tables.by_file_row(r, [ASSIGNMENT])["similar_to"] for r in marked}
    assert by_file["style0.ipynb"].startswith("disguised-copy.ipynb (") and by_file["style1.ipynb"] == ""
    table = credits.credit(marked, [ASSIGNMENT], people)
    rows = {r["student"]: r for r in (tables.student_row(row, [ASSIGNMENT])
                                      for row in standing.student_rows(table, [ASSIGNMENT], {ASSIGNMENT: 19}))}
    assert rows["Eve Copier"]["flagged"] == "FLAGGED" and "similarity report" in rows["Eve Copier"]["reason"]
    assert rows["Eve Copier"][ASSIGNMENT] == "5" and rows["Ada Lovelace"]["flagged"] == ""  # points unchanged


@pytest.mark.parametrize("assignment", sorted(VARIANTS))
def test_scores_separate_disguised_copies_from_independent_answers(assignment, releases):
    """Normalised documents of the solution and two independent styles score below the threshold
    against each other; disguised copies of each score far above it."""
    import io
    import itertools

    from copydetect import CodeFingerprint, compare_files

    from rnnlab_grader.cells import grade_id, is_answer

    release = next(r for r in releases if r.assignment == assignment)
    compared = similarity.compared_cells(release)
    keep = submissions.answer_names(release) | {"softmax_cross_entropy"}
    solution = {grade_id(c): HIDDEN_MARKERS.sub("", c.source) for c in release.solution.cells
                if is_answer(c) and c.cell_type == "code"}
    styles = [solution, *({g: v[k] for g, v in VARIANTS[assignment].items()} for k in range(2))]

    def fingerprint(sources):
        text = "\n\n".join(similarity.normalise(sources[g]) for g in compared.cells if g in sources)
        return CodeFingerprint("a.py", similarity.NOISE_T, similarity.GUARANTEE_T - similarity.NOISE_T + 1,
                               boilerplate=compared.boilerplate, fp=io.StringIO(text))

    prints = [fingerprint(s) for s in styles]
    for a, b in itertools.combinations(prints, 2):
        assert max(compare_files(a, b)[1]) < similarity.THRESHOLD - 0.1
    for sources, original in zip(styles, prints):
        copy = fingerprint({g: disguise(s, keep, 7) for g, s in sources.items() if g in compared.cells})
        assert max(compare_files(original, copy)[1]) > similarity.THRESHOLD + 0.3


def test_hostile_answers_cost_the_report_little():
    """A cell of 20,000 statements and one nested 5,000 deep are normalised within seconds."""
    import time

    started = time.monotonic()
    long_cell = similarity.normalise("\n".join(f"v{i} = {i}" for i in range(20_000)))
    deep_cell = similarity.normalise("x = " + "(" * 5_000 + "1" + ")" * 5_000)
    assert time.monotonic() - started < 20 and long_cell and deep_cell


@pytest.mark.parametrize("awkward", ["a  b", "-draft", "x" * 230])
def test_a_file_whose_name_a_table_changes_is_still_compared(tmp_path, releases, awkward):
    """A result keeps the file's name as handed in; only the table escapes it (re-spaced,
    formula-escaped, cut at 200 characters), and the report finds the file all the same (#30, #31)."""
    styles = VARIANTS[ASSIGNMENT]
    source = submission(ASSIGNMENT, {g: v[0] for g, v in styles.items()})
    copy_path, source_path = tmp_path / f"{awkward}.ipynb", tmp_path / "source.ipynb"
    nbformat.write(source, source_path)
    nbformat.write(_disguised(ASSIGNMENT, releases, style=0, seed=3), copy_path)
    results = [_result(path, path.name, name, "self", ASSIGNMENT, releases)
               for path, name in ((source_path, "Alan Turing"), (copy_path, "Eve Copier"))]
    assert tables.by_file_row(results[1], [ASSIGNMENT])["submission"] != copy_path.name  # the table escapes it
    table = credits.credit(results, [ASSIGNMENT], identity.People(None))
    found = similarity.find(results, _copy, releases, table)
    assert {frozenset(m.files) for m in found.matches} == {frozenset({source_path.name, copy_path.name})}
