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


@pytest.fixture(scope="session")
def python_with_torch(tmp_path_factory):
    """A fresh virtual environment with only torch (the pinned dev version) installed, as on Colab.

    Tests that install rnnlab into it uninstall it first.
    """
    import subprocess
    import venv
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    home = tmp_path_factory.mktemp("colab-like")
    venv.EnvBuilder(with_pip=True).create(home / "venv")
    python = home / "venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-c", str(root / "constraints.txt"), "torch"], check=True, capture_output=True, timeout=900)
    return python
