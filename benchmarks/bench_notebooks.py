"""Wall time of each solution notebook in the ``grade`` profile, against its 60 s budget.

The time budget the course design sets for autograding and CI (well under a minute per
notebook on 2 cores) lives here, not in a test: a busy machine makes a notebook slow, not
wrong. Each notebook runs in a fresh kernel, as ``make course PROFILE=grade`` runs it.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from run_course import BUDGET_S, run_notebook, solution_notebooks  # noqa: E402


def main() -> None:
    os.environ.setdefault("RNNLAB_DATA", "synthetic")
    budget = BUDGET_S["grade"]
    print(f"grade profile, one fresh kernel per notebook; budget {budget} s each")
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-notebooks-") as tmp:
        for path in solution_notebooks(ROOT):
            seconds, message, ok = run_notebook(path, Path(tmp) / path.parent.name, "grade", None)
            verdict = "FAILED: " + message if not ok else ("within budget" if seconds <= budget else "OVER BUDGET")
            print(f"  {path.parent.name:<26} {seconds:6.1f} s  ({seconds / budget:.2f} of budget)  {verdict}")


if __name__ == "__main__":
    main()
