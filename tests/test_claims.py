"""The prose's claims, checked by the run: printed with their numbers, kept for the key result."""
import json

import numpy as np
import pytest
import torch

import rnnlab
from rnnlab import claims
from rnnlab.runtime import KEY_RESULT_FILE, output_dir, record_key_result


def test_a_claim_prints_whether_it_held_with_its_values(capsys):
    claims.forget_claims()
    held = claims.check_claim("the RNN's long-lag share is below the LSTM's", 0.13 < 0.27, "0.13 vs 0.27")
    missed = claims.check_claim("the loop is slower", np.float64(0.9) > 1.1, "0.90x")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["check: the RNN's long-lag share is below the LSTM's: yes (0.13 vs 0.27)",
                     "check: the loop is slower: no (0.90x)"]
    assert held.held is True and missed.held is False and type(missed.held) is bool
    assert claims.checked_claims() == [
        {"statement": "the RNN's long-lag share is below the LSTM's", "held": True, "values": "0.13 vs 0.27"},
        {"statement": "the loop is slower", "held": False, "values": "0.90x"}]


def test_tensor_comparisons_are_claims_too():
    claims.forget_claims()
    assert claims.check_claim("below", torch.tensor(1.0) < torch.tensor(2.0), "1 vs 2").held is True


@pytest.mark.parametrize("statement,values", [("", "1"), ("x", ""), ("  ", " ")])
def test_a_claim_without_statement_or_values_is_refused(statement, values):
    with pytest.raises(ValueError, match="statement and the values"):
        claims.check_claim(statement, True, values)


def test_the_key_result_holds_the_claims_and_start_forgets_old_ones():
    claims.forget_claims()
    claims.check_claim("a", True, "1")
    written = json.loads(record_key_result("summary", x=1.0).read_text())
    assert written["claims"] == [{"statement": "a", "held": True, "values": "1"}]
    rnnlab.start(needs_data=False)
    assert claims.checked_claims() == []
    assert json.loads(record_key_result("again").read_text())["claims"] == []
    assert (output_dir() / KEY_RESULT_FILE).exists()


@pytest.mark.parametrize("accuracy,above,near", [(0.5, False, True), (0.6, False, True), (0.61, True, False),
                                                 (1.0, True, False)])
def test_chance_thresholds(accuracy, above, near):
    assert claims.above_chance(accuracy) is above and claims.near_chance(accuracy) is near


def test_a_cell_ending_in_check_claim_shows_the_line_once(capsys):
    """IPython shows a cell's last value: a claim shows nothing more than the line it printed."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_cell("from rnnlab.claims import check_claim\ncheck_claim('x is small', True, '0.1')", store_history=False)
    out = capsys.readouterr().out
    assert out.count("check: x is small: yes (0.1)") == 1 and "Claim(" not in out
