"""Points that need no computation: answers that replay values instead of computing them earn
nothing for the tests that check those values, because every hidden part draws its inputs for
the run (#30): nb03's text TODOs as lookup tables of the strings their tests used to fix, and
nb01's artifact files written from a notebook run instead of by the TODOs."""
from __future__ import annotations

import contextlib
import io
import json
import os

import nbformat
import pytest

from answer_oracle import solution_functions
from notebook_tools import ROOT, nbgrader_meta
from test_fair_scores import grade, stub, submission

pytestmark = pytest.mark.slow

NB01, NB03 = "01_bptt_by_hand", "03_rnn_vs_lstm_sweep"
KNOWN_REVIEWS = ["A <b>GREAT</b> film!<br /><br />10/10, don't miss it.", "  Plot:\tthin.\n",
                 "It's <i>well-made</i>; 5 < 6 > 4.", "<br/>Wow<BR />", "Caf\u00e9 NOIR!!!", "<p class='x'>ok</p>",
                 "...",
                 "a<b", "I'd rate it < 7 but > 5", "Tom's   'quoted'  words"]


def lookup_answers() -> dict[str, str]:
    """``preprocess_text`` and ``text_to_indices`` as tables of every input their tests fixed before."""
    ns = solution_functions()
    cleaned = {raw: ns["preprocess_text"](raw) for raw in KNOWN_REVIEWS}
    toy = {"<pad>": 0, "<unk>": 1, "good": 2, "film": 3}
    long_text = " ".join(["film", "good", "zzz"] * 300)
    cases = [("good film very good", None), ("good film very good", 2), ("", None), ("film", 5),
             ("a b good c film", 4), (long_text, 400), (long_text, None)]
    ids = {f"{text}|{max_len}": ns["text_to_indices"](text, toy, max_len) for text, max_len in cases}
    return {"preprocess_text": f"TABLE = {cleaned!r}\ndef preprocess_text(text):\n    return TABLE.get(text, '')\n",
            "text_to_indices": f"TABLE = {ids!r}\ndef text_to_indices(text, word_to_idx, max_len=None):\n"
                               "    return TABLE.get(f'{text}|{max_len}', [])\n"}


def notebook_run_artifacts() -> tuple[dict, dict]:
    """decay.json and manifest.json's results as a notebook run (grade profile, no autograder) writes them."""
    os.environ.setdefault("RNNLAB_PROFILE", "grade")
    notebook = nbformat.read(ROOT / "solutions" / NB01 / "bptt_by_hand.ipynb", 4)
    ns: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in notebook.cells:
            grade_id = nbgrader_meta(cell).get("grade_id", "")
            if cell.cell_type != "code" or grade_id.startswith("test_") or grade_id in ("setup_install", "pair_names"):
                continue
            if grade_id == "course_figure":
                break
            exec(cell.source, ns)
    decay = {"t": ns["steps"].tolist(), "rnn": ns["g_rnn"].tolist(), "gru": ns["g_gru"].tolist(),
             "gru_open_update_gate": ns["g_gru_open"].tolist()}
    summary = {"rnn_orders_of_decay_per_10steps": ns["rnn_decay"], "gru_orders_of_decay_per_10steps": ns["gru_decay"],
               "gru_open_gate_orders_of_decay_per_10steps": ns["gru_open_decay"],
               "rnn_spectral_radius_W_hh": ns["rho"], "rnn_largest_singular_value_W_hh": ns["sigma"]}
    return decay, summary


def replayed_artifacts() -> nbformat.NotebookNode:
    """Every TODO of nb01 left as released; a cell before test_artifacts writes last run's files."""
    solution = nbformat.read(ROOT / "solutions" / NB01 / "bptt_by_hand.ipynb", 4)
    answers = [nbgrader_meta(c)["grade_id"] for c in solution.cells
               if nbgrader_meta(c).get("solution") and c.cell_type == "code"
               and nbgrader_meta(c)["grade_id"] != "pair_names"]
    notebook = submission(NB01, {g: stub(NB01, g) for g in answers})
    decay, summary = notebook_run_artifacts()
    writer = (f"import json\nOUT.mkdir(parents=True, exist_ok=True)\n"
              f"(OUT / 'decay.json').write_text(json.dumps({json.dumps(decay)}))\n"
              f"(OUT / 'manifest.json').write_text(json.dumps({{'results_summary': {json.dumps(summary)}}}))\n"
              "(OUT / 'decay.png').write_bytes(b'png')\n")
    position = next(i for i, c in enumerate(notebook.cells) if nbgrader_meta(c).get("grade_id") == "test_artifacts")
    notebook.cells.insert(position, nbformat.v4.new_code_cell(writer))
    return notebook


def test_replayed_values_earn_nothing(tmp_path):
    rows = grade({"lookup-tables": submission(NB03, lookup_answers()), "replayed-artifacts": replayed_artifacts()},
                 tmp_path)
    tests = {name: dict(t.split("=", 1) for t in row["tests"].split()) for name, row in rows.items()}
    assert tests["lookup-tables"]["test_preprocess_text"].startswith("fail"), rows["lookup-tables"]["tests"]
    assert tests["lookup-tables"]["test_text_to_indices"].startswith("fail"), rows["lookup-tables"]["tests"]
    assert tests["lookup-tables"]["test_build_vocabulary"] == "pass"  # the rest of the notebook is correct
    assert tests["replayed-artifacts"]["test_artifacts"].startswith("fail"), rows["replayed-artifacts"]["tests"]
    assert float(rows["replayed-artifacts"]["total"]) == 1.0  # the pair names only
