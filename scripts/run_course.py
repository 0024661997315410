"""Execute every solution notebook and print a table: notebook, wall time, key result.

Each notebook runs in a fresh kernel with ``RNNLAB_PROFILE`` set (``fast`` by default),
its working directory and ``RNNLAB_OUTPUT`` set to ``build/<assignment>/``, so figures and
artifacts land there next to the executed copy. A notebook states its headline result
with ``rnnlab.record_key_result``; the table shows it. Exit status is non-zero if any
notebook failed; the others still run.

There is no time limit on a cell unless ``--timeout`` sets one: a busy or slow machine makes a
notebook slow, not wrong. A notebook over its profile's budget (``BUDGET_S``) is reported as
SLOW with its time. Kernels talk to the runner over local IPC sockets, not TCP.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from rnnlab.runtime import KEY_RESULT_FILE  # written by rnnlab.record_key_result


def solution_notebooks(root: Path) -> list[Path]:
    """solutions/<assignment>/<name>.ipynb in course order (checkpoints excluded)."""
    return sorted(p for p in (root / "solutions").glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


BUDGET_S = {"grade": 60, "fast": 300}  # seconds per notebook on 2 cores; the full profile is meant for a GPU


def run_notebook(path: Path, out_dir: Path, profile: str, timeout: int | None) -> tuple[float, str, bool, list[dict]]:
    """Execute ``path`` into ``out_dir``; return (seconds, key result or error, succeeded, the claims
    the run checked: dicts of statement, held, values)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / KEY_RESULT_FILE).unlink(missing_ok=True)
    notebook = nbformat.read(path, as_version=4)
    previous = {k: os.environ.get(k) for k in ("RNNLAB_PROFILE", "RNNLAB_OUTPUT")}
    os.environ.update(RNNLAB_PROFILE=profile, RNNLAB_OUTPUT=str(out_dir.resolve()))
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="rnnlab-kernel-") as sockets:
            kernel = KernelManager(kernel_name="python3", transport="ipc",
                                   connection_file=str(Path(sockets) / "kernel.json"))
            try:
                NotebookClient(notebook, km=kernel, timeout=timeout, kernel_name="python3",
                               resources={"metadata": {"path": str(out_dir)}}).execute()
            finally:
                if kernel.has_kernel:
                    kernel.shutdown_kernel(now=True)
        ok, message = True, ""
    except CellExecutionError as error:
        ok, message = False, f"FAILED: {error.ename}: {error.evalue}"[:160]
    except CellTimeoutError:
        ok, message = False, f"FAILED: a cell ran longer than {timeout} s"
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = time.perf_counter() - started
    nbformat.write(notebook, out_dir / path.name)
    claims = []
    if ok:
        key_file = out_dir / KEY_RESULT_FILE
        key = json.loads(key_file.read_text()) if key_file.exists() else {"summary": "(no key result recorded)"}
        message, claims = key["summary"], key.get("claims", [])
    return seconds, message, ok, claims


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root")
    parser.add_argument("--profile", default="fast", choices=["full", "fast", "grade"])
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: no limit)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds per notebook before it is reported SLOW (default: the profile's, see BUDGET_S)")
    parser.add_argument("--only", default=None, help="run only the notebooks whose assignment name contains this")
    args = parser.parse_args()
    root = args.root.resolve()
    notebooks = [p for p in solution_notebooks(root) if args.only is None or args.only in p.parent.name]
    if not notebooks:
        print("No notebooks in solutions/ yet: nothing to execute.")
        return 0
    rows = []
    for path in notebooks:
        name = f"{path.parent.name}/{path.name}"
        print(f"running {name} (profile {args.profile}) ...", flush=True)
        rows.append((name, *run_notebook(path, root / "build" / path.parent.name, args.profile, args.timeout)))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook':<{width}}  {'wall time':>9}  key result")
    budget = args.budget if args.budget is not None else BUDGET_S.get(args.profile)
    for name, seconds, message, _, _ in rows:
        slow = (f"  SLOW: over the {budget:g} s budget of the {args.profile} profile"
                if budget is not None and seconds > budget else "")
        print(f"{name:<{width}}  {seconds:8.1f}s  {message}{slow}")
    print(f"\nthe prose's claims, as this run ({args.profile}) checked them:")
    for name, _, _, _, claims in rows:
        for claim in claims:
            held = "yes" if claim["held"] else "NO"
            print(f"  {name.split('/')[0]}: {claim['statement']}: {held} ({claim['values']})")
    print(f"executed copies and figures: {root / 'build'}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
