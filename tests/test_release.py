"""The committed student versions are exactly what nbgrader generates from solutions/."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from notebook_tools import ROOT, solution_notebooks, student_version

ASSIGNMENTS = sorted({p.parent.name for p in solution_notebooks()})


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    """Run `scripts/release.py` in a scratch copy of the course: {assignment: folder}."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "release.py"), "--root", str(course)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return course / "notebooks"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_student_versions_are_fresh(fresh_release, assignment):
    for solution in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        generated = fresh_release / assignment / solution.name
        assert generated.read_bytes() == student_version(solution).read_bytes(), \
            f"notebooks/{assignment}/{solution.name} is stale: run `make release` and commit it"
