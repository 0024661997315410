"""The course runner and the release script, on throw-away course folders."""
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def make_notebook(path, *sources):
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def run(script, root, *args):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--root", str(root), *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("script", ["run_course.py", "release.py"])
def test_no_notebooks_yet_is_not_an_error(tmp_path, script):
    (tmp_path / "solutions").mkdir()
    done = run(script, tmp_path)
    assert done.returncode == 0 and "nothing to" in done.stdout


def test_runner_executes_and_tabulates(tmp_path):
    make_notebook(tmp_path / "solutions" / "01_demo" / "demo.ipynb",
                  "import os, rnnlab\nprofile = rnnlab.get_profile().name",
                  "import matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.savefig(rnnlab.output_dir() / 'fig.png')",
                  "rnnlab.record_key_result(f'ran in {profile}', answer=42)")
    make_notebook(tmp_path / "solutions" / "02_broken" / "broken.ipynb", "raise ValueError('boom')")
    done = run("run_course.py", tmp_path, "--profile", "grade")
    assert done.returncode == 1, done.stdout + done.stderr  # one notebook failed, the other still ran
    table = done.stdout.split("key result", 1)[1]
    assert "01_demo/demo.ipynb" in table and "ran in grade" in table
    assert "02_broken/broken.ipynb" in table and "FAILED: ValueError: boom" in table
    build = tmp_path / "build" / "01_demo"
    assert (build / "fig.png").exists() and (build / "demo.ipynb").exists()
    assert json.loads((build / "key_result.json").read_text())["values"] == {"answer": 42}
    executed = nbformat.read(build / "demo.ipynb", as_version=4)
    assert executed.cells[0].execution_count == 1
    source = nbformat.read(tmp_path / "solutions" / "01_demo" / "demo.ipynb", as_version=4)
    assert source.cells[0].execution_count is None  # the solution stays without outputs


def test_a_slow_notebook_is_reported_not_failed(tmp_path):
    make_notebook(tmp_path / "solutions" / "01_slow" / "slow.ipynb", "import time\ntime.sleep(1)")
    done = run("run_course.py", tmp_path, "--profile", "grade", "--budget", "0.5")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SLOW: over the 0.5 s budget of the grade profile" in done.stdout
    assert "WARNING" not in done.stdout + done.stderr  # no kernel-transport warning a user cannot act on
