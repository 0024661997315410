"""Wall time of each solution notebook: ``grade`` against its 60 s budget, and ``fast`` (the
class profile) on synthetic data and, with ``--data FOLDER`` (``make benchmark DATA=...``), on
real text, against its 5-minute budget, side by side with the key results.

The time budgets the course design sets (well under a minute per notebook for autograding and
CI, a few minutes per notebook in class) live here, not in a test: a busy machine makes a
notebook slow, not wrong. Each notebook runs in a fresh kernel, as ``make course`` runs it.
``--profiles grade`` skips the fast runs (minutes each).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from run_course import BUDGET_S, run_notebook, solution_notebooks  # noqa: E402


def run_all(profile: str, data: str, tmp: Path) -> None:
    budget = BUDGET_S[profile]
    os.environ["RNNLAB_DATA"] = data
    print(f"{profile} profile, data {data}, one fresh kernel per notebook; budget {budget:g} s each")
    for path in solution_notebooks(ROOT):
        folder = tmp / f"{profile}-{Path(data).name}" / path.parent.name
        seconds, message, ok = run_notebook(path, folder, profile, None)
        verdict = "FAILED: " + message if not ok else ("within budget" if seconds <= budget else "OVER BUDGET")
        print(f"  {path.parent.name:<26} {seconds:7.1f} s  ({seconds / budget:.2f} of budget)  {verdict}", flush=True)
        if ok and profile != "grade":
            print(f"    key result: {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="a folder of real IMDB and WikiText-2 (see data/README.md)")
    parser.add_argument("--profiles", default="grade,fast", help="comma-separated: grade, fast")
    args = parser.parse_args()
    profiles = args.profiles.split(",")
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-notebooks-") as tmp:
        if "grade" in profiles:
            run_all("grade", "synthetic", Path(tmp))
        if "fast" in profiles:
            run_all("fast", "synthetic", Path(tmp))
            if args.data:
                run_all("fast", str(Path(args.data).resolve()), Path(tmp))


if __name__ == "__main__":
    main()
