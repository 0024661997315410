"""The committed student versions are exactly what nbgrader generates from solutions/."""
import sys

import pytest

from notebook_tools import ROOT, solution_notebooks, student_version

sys.path.insert(0, str(ROOT / "scripts"))
from release import scratch_course

ASSIGNMENTS = sorted({p.parent.name for p in solution_notebooks()})


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    """The notebooks/ of a scratch copy of the course, released from solutions/."""
    return scratch_course(ROOT, tmp_path_factory.mktemp("course") / "course") / "notebooks"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_student_versions_are_fresh(fresh_release, assignment):
    for solution in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        generated = fresh_release / assignment / solution.name
        assert generated.read_bytes() == student_version(solution).read_bytes(), \
            f"notebooks/{assignment}/{solution.name} is stale: run `make release` and commit it"
