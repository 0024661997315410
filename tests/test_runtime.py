import json
import os
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
    assert "threads=" in lines[0] and torch.get_num_threads() == session.threads.threads
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


def test_threads_fit_the_free_cores(monkeypatch):
    import torch

    from rnnlab import threads

    assert threads.plan_threads(2, 0.1) == 2 and threads.plan_threads(2, 1.6) == 1 and threads.plan_threads(8, 20) == 1
    assert threads.plan_threads(8, 3.2) == 5
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the autograder's share of the cores wins
        monkeypatch.delenv("RNNLAB_THREADS", raising=False)
        plan = threads.fit_threads(sample_s=0.01)
        assert plan.threads == 3 == torch.get_num_threads() and "OMP_NUM_THREADS" in plan.describe()
        monkeypatch.delenv("OMP_NUM_THREADS")
        monkeypatch.setattr(threads, "busy_cores", lambda sample_s: 1.7)
        monkeypatch.setattr(threads, "usable_cores", lambda: 2)
        plan = threads.fit_threads()
        assert plan.threads == 1 == torch.get_num_threads() and plan.crowded
        assert plan.describe() == "threads=1 (2 cores, 1.7 busy: busy machine, expect a slower run)"
    finally:
        torch.set_num_threads(before)


def test_busy_cores_reads_the_machine():
    from rnnlab import threads

    busy = threads.busy_cores(sample_s=0.05)
    assert 0.0 <= busy <= 4 * (os.cpu_count() or 1)
