import json
import random

import numpy as np
import pytest
import torch

import rnnlab
from rnnlab import runtime
from rnnlab.sources import DataSource


def draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_set_seed_seeds_every_source():
    rnnlab.set_seed(5)
    first = draws()
    rnnlab.set_seed(5)
    assert draws() == first
    with pytest.raises(ValueError, match="non-negative int"):
        rnnlab.set_seed(-1)


def test_get_device():
    assert rnnlab.get_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        assert rnnlab.get_device().type == "cpu"
        with pytest.raises(RuntimeError, match="Change runtime type"):
            rnnlab.get_device("cuda")


def test_output_dir_and_key_result(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_OUTPUT", str(tmp_path / "out"))
    assert rnnlab.output_dir("figs") == tmp_path / "out" / "figs" and (tmp_path / "out" / "figs").is_dir()
    from rnnlab.claims import forget_claims

    forget_claims()  # the key result also holds the claims checked so far (none here)
    path = rnnlab.record_key_result("decay 3.1 orders / 10 steps", rnn=3.1)
    assert json.loads(path.read_text()) == {"summary": "decay 3.1 orders / 10 steps", "values": {"rnn": 3.1},
                                            "claims": []}


def test_start_prints_one_banner_line(capsys):
    session = rnnlab.start()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert "profile=grade" in lines[0] and "data=synthetic" in lines[0] and "device=cpu" in lines[0]
    assert session.profile.name == "grade" and session.data.kind == "synthetic"
    after_start = draws()
    rnnlab.set_seed(session.profile.seed)
    assert draws() == after_start  # start() seeded with the profile's seed


def test_banner_warns_about_full_on_cpu(monkeypatch):
    monkeypatch.setenv("RNNLAB_PROFILE", "full")
    session = runtime.Session(rnnlab.get_profile(), DataSource("synthetic"), torch.device("cpu"))
    assert "needs a GPU" in session.banner and "RNNLAB_PROFILE=fast" in session.banner


def test_start_without_data_does_not_resolve_a_source(monkeypatch, capsys):
    monkeypatch.setenv("RNNLAB_DATA", "/nonexistent/folder")  # would raise if resolved
    session = rnnlab.start(needs_data=False)
    assert session.data.kind == "none" and "generated in the notebook" in capsys.readouterr().out
