"""A busy machine: the same CPU training work idle and beside two CPU-bound processes, side by side
in one run, with torch's threads as ``rnnlab.start()`` now fits them (the free cores), as before
(a thread per core), and with the free cores and OpenMP's passive wait (``OMP_WAIT_POLICY=PASSIVE``,
measured and not adopted: it slows the idle machine).

The work is one ``fast``-profile slice of notebook 03 (an LSTM classifier, batches of 64 reviews of
200 words, forward, backward and an Adam step), run in a fresh interpreter per measurement so each
picks its threads at start. ``--notebook`` times the whole ``fast`` notebook 03 instead (minutes
each). Target (#33): busy / idle <= 3 with the fitted threads.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3
WORK = r'''
import time, rnnlab, torch
from rnnlab import threads
from rnnlab.models import RecurrentClassifier
plan = threads.fit_threads()
torch.manual_seed(0)
model = RecurrentClassifier(10_000, 64, 64, kind="lstm")
optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
ids, lengths = torch.randint(2, 10_000, (64, 200)), torch.full((64,), 200)
labels = torch.randint(0, 2, (64,)).float()
started = time.perf_counter()
for _ in range(%(steps)d):
    loss = torch.nn.functional.binary_cross_entropy_with_logits(model(ids, lengths), labels)
    optimiser.zero_grad(); loss.backward(); optimiser.step()
print(time.perf_counter() - started, plan.threads)
'''
RUN_NOTEBOOK = r'''
import time, nbformat
from nbclient import NotebookClient
started = time.perf_counter()
NotebookClient(nbformat.read(%(path)r, 4), timeout=None, kernel_name="python3").execute()
print(time.perf_counter() - started, "fitted-in-kernel")
'''
NOTEBOOK = ROOT / "solutions" / "03_rnn_vs_lstm_sweep" / "rnn_vs_lstm_sweep.ipynb"


def settings(cores: int) -> dict[str, dict[str, str]]:
    """The two ways of choosing threads, as environments of the measured process."""
    return {"fitted": {}, "every core (before)": {"RNNLAB_THREADS": str(cores)},
            "fitted, passive wait": {"OMP_WAIT_POLICY": "PASSIVE"}}


def measure(env: dict[str, str], notebook: bool, steps: int) -> tuple[float, str]:
    """Seconds of the work in a fresh interpreter with ``env`` added, and the threads it used."""
    full = {**os.environ, "RNNLAB_PROFILE": "fast", "RNNLAB_DATA": "synthetic", **env}
    full.pop("OMP_NUM_THREADS", None)
    if "OMP_WAIT_POLICY" not in env:
        full.pop("OMP_WAIT_POLICY", None)
    code = RUN_NOTEBOOK % {"path": str(NOTEBOOK)} if notebook else WORK % {"steps": steps}
    done = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, check=True)
    seconds, used = done.stdout.split()[-2:]
    return float(seconds), used


def hogs(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", action="store_true", help="time the whole fast notebook 03")
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    times = {(name, load): [] for name in settings(cores) for load in ("idle", "busy")}
    used = {}
    for repeat in range(args.repeats):
        for load in ("idle", "busy"):
            running = hogs(2) if load == "busy" else []
            try:
                time.sleep(1.0 if running else 0.0)
                order = list(settings(cores).items())
                for name, env in order if repeat % 2 == 0 else order[::-1]:
                    seconds, used[(name, load)] = measure(env, args.notebook, args.steps)
                    times[(name, load)].append(seconds)
            finally:
                for hog in running:
                    hog.kill()
                    hog.wait()
    print(f"{'notebook 03, fast' if args.notebook else f'{args.steps} LSTM training steps (fast sizes)'} on "
          f"{cores} cores, {args.repeats} interleaved repeats, medians in seconds; busy = beside 2 CPU-bound processes")
    for name in settings(cores):
        idle, busy = (statistics.median(times[(name, load)]) for load in ("idle", "busy"))
        print(f"  {name:<22} idle {idle:7.2f} (threads {used[(name, 'idle')]})  busy {busy:7.2f} "
              f"(threads {used[(name, 'busy')]})  busy/idle {busy / idle:5.2f}")
    print("  target: busy/idle <= 3 with the fitted threads")


if __name__ == "__main__":
    main()
