"""The instructor's summary figure of a grading run (``--summary FILE.png``): the distribution of
autograded points per notebook, and the tests failed most often (share of graded files)."""
from __future__ import annotations

from pathlib import Path

from .results import FileResult, TestStatus

TOP_TESTS = 15


def failure_counts(results: list[FileResult]) -> dict[str, tuple[int, int]]:
    """``"assignment: grade_id"`` -> (files that failed it, files that ran its notebook)."""
    counts: dict[str, list[int]] = {}
    for result in results:
        for test in result.tests:
            entry = counts.setdefault(f"{result.assignment}: {test.grade_id}", [0, 0])
            entry[0] += test.status is not TestStatus.PASS
            entry[1] += 1
    return {test: (failed, seen) for test, (failed, seen) in counts.items()}


def summary_figure(path: Path, results: list[FileResult], max_points: dict[str, float]) -> None:
    """Save the figure: one histogram of points per notebook (left), the most failed tests (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assignments = [a for a in max_points if any(r.assignment == a for r in results)] or list(max_points)
    figure = plt.figure(figsize=(13, max(3.0, 2.2 * len(assignments))), layout="constrained")
    grid = figure.add_gridspec(max(1, len(assignments)), 2)
    for row, assignment in enumerate(assignments):
        axis = figure.add_subplot(grid[row, 0])
        totals = [r.points for r in results if r.assignment == assignment]
        top = max_points.get(assignment, 1.0) or 1.0
        axis.hist(totals, bins=[x - 0.5 for x in range(int(top) + 2)], color="tab:blue", edgecolor="white")
        axis.set(title=f"{assignment} ({len(totals)} files)", xlabel=f"autograded points (of {top:g})",
                 ylabel="files", xlim=(-0.5, top + 0.5))
        axis.yaxis.get_major_locator().set_params(integer=True)
    axis = figure.add_subplot(grid[:, 1])
    counts = failure_counts(results)
    failed = [t for t in counts if counts[t][0]]
    worst = sorted(failed, key=lambda t: (-counts[t][0] / max(1, counts[t][1]), t))[:TOP_TESTS]
    shares = [100 * counts[t][0] / max(1, counts[t][1]) for t in worst]
    axis.barh(range(len(worst)), shares, color="tab:red")
    axis.set_yticks(range(len(worst)), worst, fontsize=8)
    axis.invert_yaxis()
    axis.set(xlim=(0, 100), xlabel="files that failed the test (%)",
             title=f"The {len(worst)} tests failed most often")
    figure.suptitle(f"Autograding summary: {len(results)} files")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
