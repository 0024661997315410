"""Run course notebooks in tests and read what each nbgrader cell did."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from rnnlab_grader.repair import nbgrader_meta  # noqa: E402  (re-exported for the tests)

SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def solution_notebooks() -> list[Path]:
    return sorted((ROOT / "solutions").glob("*/*.ipynb"))


def student_version(solution: Path) -> Path:
    return ROOT / "notebooks" / solution.parent.name / solution.name


def is_autograded_test(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


@dataclass
class CellOutcome:
    grade_id: str
    points: float
    error: str | None   # "Name: message" of the exception, or None
    stderr: str         # anything printed to stderr (nbgrader scores such a test cell 0)


def execute(path: Path, workdir: Path, timeout: int = 120) -> nbformat.NotebookNode:
    """Execute a copy of the notebook in ``workdir``, continuing past errors."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def autograded_outcomes(notebook) -> list[CellOutcome]:
    outcomes = []
    for cell in notebook.cells:
        if not is_autograded_test(cell):
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        stderr = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
        error = f"{errors[0].ename}: {errors[0].evalue}" if errors else None
        meta = nbgrader_meta(cell)
        outcomes.append(CellOutcome(meta["grade_id"], meta["points"], error, stderr))
    return outcomes


def protected_lines(*solutions: Path) -> set[str]:
    """Lines that only the solution and hidden-test regions of these solution notebooks hold:
    longer than 12 characters and absent from their visible text (``loss.backward()`` in a
    visible cell of any of them is no secret)."""
    protected, visible = set(), set()
    for solution in solutions:
        for cell in nbformat.read(solution, as_version=4).cells:
            for region in SOLUTION_REGION.findall(cell.source) + HIDDEN_REGION.findall(cell.source):
                protected |= {line.strip() for line in region.splitlines() if len(line.strip()) > 12}
            outside = HIDDEN_REGION.sub("", SOLUTION_REGION.sub("", cell.source))
            visible |= {line.strip() for line in outside.splitlines()}
    return protected - visible


def source_lines(path: Path) -> set[str]:
    """Stripped lines of a file; for a notebook, of its cells' sources."""
    if path.suffix == ".ipynb":
        text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    else:
        text = path.read_text(errors="replace")
    return {line.strip() for line in text.splitlines()}


TORCH_FINGERPRINT = ("import torch, pathlib; p = pathlib.Path(torch.__file__).parent; "
                     "print(torch.__version__, p.stat().st_mtime_ns, (p / '__init__.py').stat().st_ino)")


def run_python(python, code, env=None, timeout=900) -> str:
    """Run ``code`` with another interpreter; fail with its output if it fails; return stdout."""
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def uninstall_rnnlab(python) -> None:
    """Remove rnnlab from another interpreter's environment (no-op when absent)."""
    run_python(python, "import subprocess, sys; subprocess.run([sys.executable, '-m', 'pip', 'uninstall', "
                       "'-y', '-q', 'rnnlab'], check=True)")
