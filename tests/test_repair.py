"""Giving a Colab-stripped or rearranged notebook its nbgrader metadata back (``rnnlab_grader.repair``)."""
import nbformat

from notebook_tools import ROOT
from rnnlab_grader import repair, submissions
from tiny_course import ADD, SQUARE, blank, perfect, stripped, with_names


def test_aligning_a_hostile_notebook_is_bounded(monkeypatch):
    """1,000 long cells that resemble nothing make at most ``FUZZY_COMPARISONS`` full (quadratic)
    comparisons; cheap bounds and exact matches decide the rest (76-766 s before, about 1 s now)."""
    import difflib
    import random
    import string

    release = nbformat.read(ROOT / "notebooks" / "03_rnn_vs_lstm_sweep" / "rnn_vs_lstm_sweep.ipynb", 4)
    rng = random.Random(0)
    hostile = nbformat.v4.new_notebook()
    hostile.cells = [nbformat.v4.new_code_cell("".join(rng.choices(string.ascii_letters + " \n", k=2000)))
                     for _ in range(submissions.MAX_CELLS)]
    calls, ratio = [], difflib.SequenceMatcher.ratio
    monkeypatch.setattr(difflib.SequenceMatcher, "ratio", lambda self: calls.append(1) or ratio(self))
    repair.restore(hostile, release)
    assert 0 < len(calls) <= repair.FUZZY_COMPARISONS


def test_restore_is_idempotent_on_an_intact_submission():
    restoration = repair.restore(perfect(), blank())
    assert restoration.summary() == ""
    assert [c.source for c in restoration.notebook.cells] == [c.source for c in perfect().cells]


def test_restore_survives_reordered_and_added_cells():
    messy = stripped(perfect())
    messy.cells.insert(6, nbformat.v4.new_code_cell("print('my own scratch work')"))
    messy.cells.insert(2, nbformat.v4.new_markdown_cell("notes to self"))
    restored = repair.restore(messy, blank())
    ids = [repair.nbgrader_meta(c).get("grade_id") for c in restored.notebook.cells if repair.nbgrader_meta(c)]
    assert ids == [repair.nbgrader_meta(c)["grade_id"] for c in blank().cells if repair.nbgrader_meta(c)]
    answers = {repair.nbgrader_meta(c).get("grade_id"): c.source for c in restored.notebook.cells}
    assert (answers["square"], answers["add"]) == (SQUARE, ADD) and restored.reinserted == []


def test_a_terse_pair_cell_without_metadata_still_counts():
    terse = stripped(with_names(perfect(), "Ada", "self"))
    restored = repair.restore(terse, blank()).notebook
    pair = [c for c in restored.cells if repair.nbgrader_meta(c).get("grade_id") == "pair_names"]
    assert len(pair) == 1 and pair[0].source.startswith("your_name = 'Ada'")
    assert submissions.pair_names(restored) == ("Ada", "self")
