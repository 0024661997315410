"""Autograde a folder of submitted notebooks into one CSV (``make grade SUBMISSIONS=<folder>``).

Submissions are untrusted code. Each one is graded on its own:

* in a scratch course folder with a *copy* of the gradebook, so nothing a submission does
  can reach the instructor's gradebook or release;
* in its own process group, killed at a wall-clock limit, with nbgrader's per-cell timeout;
* under an address-space limit (``RLIMIT_AS``), so a runaway allocation fails inside the
  kernel instead of taking the machine down;
* where the OS allows it (Linux ``unshare``; root, or unprivileged user namespaces): in a
  private network namespace holding only a loopback interface, and a private mount
  namespace in which the course folder and the grader's home directory are read-only.
  World-writable places such as /tmp stay writable; a container gives more.

Notebooks downloaded from Colab may have lost their nbgrader metadata; it is restored from
the release version first (``restore_metadata``). One broken submission gets a row with its
reason and never stops the others.
"""
from __future__ import annotations

import argparse
import ast
import csv
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from release import points, tool_env  # noqa: E402
from restore_metadata import nbgrader_meta, restore  # noqa: E402

# Errors in ungraded cells that only follow from a missing answer (or from a timeout's interrupt):
# the failed tests already say it.
CONSEQUENTIAL_ERRORS = {"NotImplementedError", "NameError", "KeyboardInterrupt"}
ISOLATED_ENV_DROP = ("RNNLAB_PROFILE", "RNNLAB_DATA", "RNNLAB_OUTPUT", "HF_ENDPOINT")


@dataclass(frozen=True)
class Limits:
    """Per submission: wall-clock seconds, seconds per cell, address space in GiB."""

    wall_s: int = 600
    cell_s: int = 120
    memory_gib: float = 4.0


@dataclass(frozen=True)
class Release:
    assignment: str
    name: str
    notebook: nbformat.NotebookNode
    max_points: float


def load_releases(root: Path) -> list[Release]:
    """Every student version in notebooks/<assignment>/<name>.ipynb with its autograded points."""
    releases = []
    for path in sorted((root / "notebooks").glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        releases.append(Release(path.parent.name, path.stem, notebook, points(notebook)[0]))
    return releases


def identify(notebook, releases: list[Release]) -> Release | None:
    """The release whose locked cells appear most often, verbatim, in ``notebook``."""
    sources = {cell.get("source", "").strip() for cell in notebook.get("cells", [])}
    best, best_hits = None, 1
    for release in releases:
        hits = sum(1 for c in release.notebook.cells
                   if nbgrader_meta(c).get("locked") and c.source.strip() in sources)
        if hits > best_hits:
            best, best_hits = release, hits
    return best


def pair_names(notebook) -> tuple[str, str]:
    """``your_name`` and ``your_partner_name`` assigned as string literals (the last assignment
    in any code cell wins, so a pair cell that lost its metadata still counts)."""
    names = {"your_name": "", "your_partner_name": ""}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id in names:
                        names[target.id] = node.value.value.strip()
    return names["your_name"], names["your_partner_name"]


def sandbox_prefix(protected: list[Path]) -> list[str]:
    """A command prefix that runs the rest in new network and mount namespaces: only a
    loopback interface (the kernel talks to nbgrader over it), and every folder in
    ``protected`` bind-mounted read-only. Empty when the OS does not allow it."""
    if not (shutil.which("unshare") and shutil.which("ip") and shutil.which("mount")):
        return []
    script = ["set -e", "mount --make-rprivate /"]
    for folder in protected:
        script += [f'mount --bind "{folder}" "{folder}"', f'mount -o remount,bind,ro "{folder}"']
    script += ["ip link set lo up", 'exec "$@"']
    flags = ["-n", "-m"] if os.geteuid() == 0 else ["-r", "-n", "-m"]
    prefix = ["unshare", *flags, "sh", "-c", "\n".join(script), "sandbox"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=30)
    return prefix if probe.returncode == 0 else []


def _limit_memory(memory_gib: float):
    limit = int(memory_gib * 2**30)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def _failure_reasons(autograded: Path, cell_s: int) -> list[str]:
    """Why cells failed, from the executed notebook's error outputs (graded cells by grade_id,
    others by position)."""
    reasons = []
    notebook = nbformat.read(autograded, as_version=4)
    for index, cell in enumerate(notebook.cells, start=1):
        meta = nbgrader_meta(cell)
        label = meta.get("grade_id") or f"cell {index} (not graded)"
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            name, value = output.get("ename", ""), output.get("evalue", "")
            if name == "CellTimeoutError" or "timed out" in value:
                reasons.append(f"{label}: ran longer than {cell_s} s")
            elif name == "MemoryError":
                reasons.append(f"{label}: MemoryError (over the memory limit)")
            elif meta.get("grade") and not meta.get("solution"):
                reasons.append(f"{label} failed")
            elif not meta and name not in CONSEQUENTIAL_ERRORS:
                reasons.append(f"{label}: {name}: {value}"[:160])
    return reasons


def grade_submission(path: Path, index: int, root: Path, releases: list[Release], limits: Limits,
                     workdir: Path, sandbox: list[str]) -> dict:
    """Grade one submitted file; always returns a row (points 0 and a reason on failure)."""
    row = {"submission": str(path), "your_name": "", "your_partner_name": "", "assignment": "",
           "points": 0.0, "max_points": 0.0, "reason": ""}
    try:
        submitted = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable file is a row, not a crash
        row["reason"] = f"not a readable notebook ({type(error).__name__}): re-download the .ipynb"
        return row
    release = identify(submitted, releases)
    if release is None:
        row["reason"] = "not a notebook of this course (no cell of any released notebook found)"
        return row
    row.update(assignment=release.assignment, max_points=release.max_points)
    try:
        restoration = restore(submitted, release.notebook)
    except Exception as error:  # noqa: BLE001
        row["reason"] = f"could not align with the release version: {error}"
        return row
    row["your_name"], row["your_partner_name"] = pair_names(restoration.notebook)
    notes = [restoration.summary()] if restoration.summary() else []

    scratch = workdir / f"submission-{index:04d}"
    student = f"s{index:04d}"
    target = scratch / "submitted" / student / release.assignment / f"{release.name}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(restoration.notebook, target)
    shutil.copy(root / "nbgrader_config.py", scratch)
    shutil.copy(root / "gradebook.db", scratch)

    env = tool_env(HOME=str(scratch), MPLCONFIGDIR=str(scratch / ".mpl"), IPYTHONDIR=str(scratch / ".ipython"),
                   JUPYTER_RUNTIME_DIR=str(scratch / ".runtime"), XDG_CACHE_HOME=str(scratch / ".cache"),
                   RNNLAB_OUTPUT=str(scratch / "outputs"), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    for name in ISOLATED_ENV_DROP:
        env.pop(name, None)
    command = [*sandbox, "nbgrader", "autograde", release.assignment,
               "--student", student, "--force", f"--Execute.timeout={limits.cell_s}", "--log-level=ERROR"]
    process = subprocess.Popen(command, cwd=scratch, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True, preexec_fn=_limit_memory(limits.memory_gib))
    try:
        log, _ = process.communicate(timeout=limits.wall_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        row["reason"] = "; ".join([*notes, f"grading took longer than {limits.wall_s} s and was stopped"])
        return row

    autograded = scratch / "autograded" / student / release.assignment / f"{release.name}.ipynb"
    score = _read_score(scratch, release.assignment, student)
    if score is None or process.returncode != 0 or not autograded.exists():
        tail = " ".join(log.strip().splitlines()[-2:])[-300:] if log.strip() else f"exit {process.returncode}"
        if "Kernel died" in log or "DeadKernel" in log:
            problem = "the kernel died while running the notebook (a crash or an exit call); nothing could be scored"
        else:
            problem = f"autograding failed: {tail}"
        row["reason"] = "; ".join([*notes, problem])
        return row
    row["points"] = score
    row["reason"] = "; ".join([*notes, *_failure_reasons(autograded, limits.cell_s)])
    return row


def _read_score(scratch: Path, assignment: str, student: str) -> float | None:
    from nbgrader.api import Gradebook, MissingEntry

    try:
        with Gradebook(f"sqlite:///{scratch / 'gradebook.db'}") as gradebook:
            submission = gradebook.find_submission(assignment, student)
            return float(sum(nb.code_score for nb in submission.notebooks))
    except MissingEntry:
        return None


def write_csv(rows: list[dict], assignments: list[str], path: Path) -> None:
    """One row per submission: names, points per notebook, total and the reason."""
    fields = ["submission", "your_name", "your_partner_name", "assignment", *assignments,
              "total", "max_total", "reason"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            record = {k: row[k] for k in ("submission", "your_name", "your_partner_name", "assignment", "reason")}
            record.update({a: (row["points"] if a == row["assignment"] else "") for a in assignments})
            record.update(total=row["points"], max_total=row["max_points"])
            writer.writerow(record)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder of submitted .ipynb files (searched recursively)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root (gradebook.db, notebooks/)")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"))
    parser.add_argument("--wall", type=int, default=Limits.wall_s, help="seconds per submission")
    parser.add_argument("--cell-timeout", type=int, default=Limits.cell_s, help="seconds per cell")
    parser.add_argument("--memory-gib", type=float, default=Limits.memory_gib)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "gradebook.db").exists():
        print("No gradebook.db: run `make release` first (it records the tests nbgrader restores).", file=sys.stderr)
        return 2
    files = sorted(p for p in args.submissions.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not files:
        print(f"No .ipynb files under {args.submissions}.", file=sys.stderr)
        return 2
    releases = load_releases(root)
    limits = Limits(args.wall, args.cell_timeout, args.memory_gib)
    sandbox = sandbox_prefix(sorted({root, Path.home().resolve()}))
    print(f"grading {len(files)} submissions; sandbox (no network, read-only course and home) "
          f"{'on' if sandbox else 'NOT available on this system'}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="rnnlab-grade-") as work:
        workdir = Path(work)
        workdir.chmod(0o755)
        for index, path in enumerate(files):
            started = time.perf_counter()
            row = grade_submission(path, index, root, releases, limits, workdir, sandbox)
            rows.append(row)
            print(f"  {path.name}: {row['points']:g}/{row['max_points']:g} in {time.perf_counter() - started:.0f} s"
                  + (f"  ({row['reason']})" if row["reason"] else ""), flush=True)
    write_csv(rows, sorted({r.assignment for r in releases}), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
