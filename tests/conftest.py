"""Shared test set-up: offline, headless, the `grade` profile, synthetic data."""
import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def offline_grade_env(monkeypatch, tmp_path):
    """Every test runs as CI does: grade profile, synthetic data, outputs in a temp folder."""
    monkeypatch.setenv("RNNLAB_PROFILE", "grade")
    monkeypatch.setenv("RNNLAB_DATA", "synthetic")
    monkeypatch.setenv("RNNLAB_OUTPUT", str(tmp_path / "outputs"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
