"""The student notebooks' Colab badge and setup cell, and the setup cell run for real in a
fresh virtual environment that already has torch (as Colab does)."""
import json
import sys

import nbformat
import pytest

from notebook_tools import ROOT, TORCH_FINGERPRINT, solution_notebooks, student_version, uninstall_rnnlab
from notebook_tools import run_python as run

sys.path.insert(0, str(ROOT / "scripts"))
from colab import BADGE_TAG, SETUP_TAG, load_repository

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


@pytest.mark.parametrize("path", STUDENT_NOTEBOOKS, ids=IDS)
def test_setup_cell_installs_rnnlab_once_and_keeps_torch(python_with_torch, path):
    setup = tagged(nbformat.read(path, as_version=4), SETUP_TAG).source
    uninstall_rnnlab(python_with_torch)
    torch_files = run(python_with_torch, TORCH_FINGERPRINT)
    env = {"RNNLAB_INSTALL_URL": f"git+file://{ROOT}", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    run(python_with_torch, setup, env=env, timeout=900)
    info = json.loads(run(python_with_torch, "import json, rnnlab, torch; print(json.dumps("
                                             "[rnnlab.__file__, rnnlab.__version__]))"))
    assert "site-packages" in info[0], "rnnlab must be installed into the environment, not found in the checkout"
    assert run(python_with_torch, TORCH_FINGERPRINT) == torch_files, "the setup cell reinstalled torch"
    env["RNNLAB_INSTALL_URL"] = "git+file:///nonexistent"  # a second run must not install anything
    run(python_with_torch, setup, env=env)


def test_setup_cell_without_network_says_what_to_do(python_with_torch):
    """pip cannot reach the source: one RuntimeError that names the local routes, no pip traceback."""
    import subprocess

    setup = tagged(nbformat.read(STUDENT_NOTEBOOKS[0], as_version=4), SETUP_TAG).source
    uninstall_rnnlab(python_with_torch)
    done = subprocess.run([str(python_with_torch), "-c", setup], capture_output=True, text=True, timeout=300,
                          env={"RNNLAB_INSTALL_URL": "/nonexistent/rnnlab-clone", "PATH": "/usr/bin:/bin",
                               "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"})
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: Could not install rnnlab from /nonexistent/rnnlab-clone"), done.stderr
    assert "pip install -e ." in last and "RNNLAB_INSTALL_URL" in last and "CalledProcessError" not in done.stderr
