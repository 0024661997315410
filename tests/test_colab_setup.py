"""The student notebooks' Colab badge and setup cell, and the setup cell run for real in a
fresh virtual environment that already has torch (as Colab does)."""
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest
from notebook_tools import ROOT, solution_notebooks, student_version

sys.path.insert(0, str(ROOT / "scripts"))
from colab import BADGE_TAG, SETUP_TAG, load_repository  # noqa: E402

STUDENT_NOTEBOOKS = [student_version(p) for p in solution_notebooks()]
IDS = [p.parent.name for p in STUDENT_NOTEBOOKS]


def tagged(notebook, tag):
    cells = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}, found {len(cells)}"
    return cells[0]


@pytest.mark.parametrize("path", STUDENT_NOTEBOOKS, ids=IDS)
def test_badge_and_setup_point_at_the_student_repository(path):
    repo = load_repository(ROOT)
    notebook = nbformat.read(path, as_version=4)
    assert BADGE_TAG in notebook.cells[0].metadata.get("tags", []), "the badge must be the first cell"
    badge = tagged(notebook, BADGE_TAG).source
    assert f"colab.research.google.com/github/{repo.github_path}/blob/{repo.branch}/notebooks/" \
           f"{path.parent.name}/{path.name}" in badge
    setup = tagged(notebook, SETUP_TAG)
    assert repo.install_url in setup.source
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert first_code is setup, "the setup cell must be the first code cell"


def run(python, code, env=None, timeout=600):
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def colab_like_python(tmp_path_factory):
    """A fresh virtual environment with only torch installed, like a Colab runtime."""
    home = tmp_path_factory.mktemp("colab")
    venv.EnvBuilder(with_pip=True).create(home / "venv")
    python = home / "venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-c", str(ROOT / "constraints.txt"), "torch"], check=True, capture_output=True, timeout=900)
    return python


@pytest.mark.parametrize("path", STUDENT_NOTEBOOKS, ids=IDS)
def test_setup_cell_installs_rnnlab_once_and_keeps_torch(colab_like_python, path):
    setup = tagged(nbformat.read(path, as_version=4), SETUP_TAG).source
    torch_files = run(colab_like_python, "import torch, pathlib; p = pathlib.Path(torch.__file__).parent; "
                                         "print(torch.__version__, p.stat().st_mtime_ns, (p / '__init__.py').stat().st_ino)")
    env = {"RNNLAB_INSTALL_URL": f"git+file://{ROOT}", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    run(colab_like_python, setup, env=env, timeout=900)
    info = json.loads(run(colab_like_python, "import json, rnnlab, torch; print(json.dumps("
                                             "[rnnlab.__file__, rnnlab.__version__]))"))
    assert "site-packages" in info[0], "rnnlab must be installed into the environment, not found in the checkout"
    assert run(colab_like_python, "import torch, pathlib; p = pathlib.Path(torch.__file__).parent; "
                                  "print(torch.__version__, p.stat().st_mtime_ns, (p / '__init__.py').stat().st_ino)"
               ) == torch_files, "the setup cell reinstalled torch"
    env["RNNLAB_INSTALL_URL"] = "git+file:///nonexistent"  # a second run must not install anything
    run(colab_like_python, setup, env=env)
