"""Cost and margins of the similarity report (``rnnlab_grader.similarity``).

1. **Margins**: for each notebook, the scores of the solution and two independent correct styles
   (``tests/fair_variants.py``) against each other (honest convergence), and of disguised copies
   of each (``tests/disguise.py``: renamed names, reordered statements, comments, dead code)
   against their source, beside the threshold.
2. **Cost**: a generated class of 200 pairs x 4 notebooks (800 files), every file a disguised
   copy of one of three styles with a seed of its own (the worst case: every pair of files
   shares fingerprints), timed through ``similarity.find`` (reading, repairing, normalising,
   fingerprinting, the inverted index and the comparisons).

    .venv/bin/python benchmarks/bench_similarity.py [--pairs 200]
"""
from __future__ import annotations

import argparse
import io
import itertools
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "grader")]

import nbformat  # noqa: E402
from copydetect import CodeFingerprint, compare_files  # noqa: E402

from disguise import disguise  # noqa: E402
from fair_variants import VARIANTS  # noqa: E402
from rnnlab_grader import credits, identity, similarity, submissions  # noqa: E402
from rnnlab_grader.cells import HIDDEN_MARKERS, grade_id, is_answer  # noqa: E402
from rnnlab_grader.releases import load_releases  # noqa: E402
from test_fair_scores import submission  # noqa: E402


def styles_of(release):
    solution = {grade_id(c): HIDDEN_MARKERS.sub("", c.source) for c in release.solution.cells
                if is_answer(c) and c.cell_type == "code"}
    return [solution, *({g: v[k] for g, v in VARIANTS[release.assignment].items()} for k in range(2))]


def margins(releases) -> None:
    print(f"threshold {similarity.THRESHOLD}")
    print("| notebook | independent styles: highest | disguised copies: lowest | margin below / above |")
    print("| --- | --- | --- | --- |")
    for release in releases:
        compared = similarity.compared_cells(release)
        keep = submissions.answer_names(release) | {"softmax_cross_entropy"}

        def fingerprint(sources, compared=compared):
            text = "\n\n".join(similarity.normalise(sources[g]) for g in compared.cells if g in sources)
            return CodeFingerprint("a.py", similarity.NOISE_T, similarity.GUARANTEE_T - similarity.NOISE_T + 1,
                                   boilerplate=compared.boilerplate, fp=io.StringIO(text))

        styles = styles_of(release)
        prints = [fingerprint(s) for s in styles]
        honest = max(max(compare_files(a, b)[1]) for a, b in itertools.combinations(prints, 2))
        copies = min(max(compare_files(p, fingerprint({g: disguise(src, keep, seed) for g, src in s.items()
                                                       if g in compared.cells}))[1])
                     for s, p in zip(styles, prints) for seed in range(5))
        print(f"| {release.assignment} | {honest:.2f} | {copies:.2f} | "
              f"{similarity.THRESHOLD - honest:.2f} / {copies - similarity.THRESHOLD:.2f} |")


def cost(releases, pairs: int) -> None:
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        records = []
        for release in releases:
            keep = submissions.answer_names(release) | {"softmax_cross_entropy"}
            compared = similarity.compared_cells(release).cells
            styles = styles_of(release)
            for p in range(pairs):
                notebook = submission(release.assignment, {})
                chosen = styles[p % 3]
                for cell in notebook.cells:
                    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                    if gid in compared and gid in chosen:
                        cell.source = disguise(chosen[gid], keep, p)
                path = folder / f"{release.assignment}-{p:03d}.ipynb"
                nbformat.write(notebook, path)
                records.append({"submission": path.name, "sha256": submissions.sha256(path),
                                "your_name": f"Student {2 * p}", "your_partner_name": f"Student {2 * p + 1}",
                                "assignment": release.assignment, "total": "1", "reason": ""})
        table = credits.credit(records, [r.assignment for r in releases], identity.People(None))
        started = time.perf_counter()
        found = similarity.find(records, submissions.files_by_hash(sorted(folder.glob("*.ipynb"))), releases, table)
        seconds = time.perf_counter() - started
        print(f"\n{len(records)} files ({pairs} pairs x {len(releases)} notebooks): similarity.find took "
              f"{seconds:.1f} s ({1000 * seconds / len(records):.0f} ms per file); {found.comparisons} pairs of "
              f"files scored, {len(found.matches)} reported")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    args = parser.parse_args()
    releases = load_releases(ROOT)
    margins(releases)
    cost(releases, args.pairs)


if __name__ == "__main__":
    main()
