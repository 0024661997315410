"""How many CPU threads torch should use here: the cores actually free, not every core.

torch's intra-op pool takes one thread per core and its OpenMP threads spin while they wait. On a
machine whose cores are already taken (a browser and a video call, a shared lab machine, a
teaching assistant grading beside a notebook) those threads fight the other work and each
other: the same ``fast`` series measured 26x slower with the load at 4-6 on 2 cores. So
``fit_threads`` counts the cores that are busy (``/proc/stat`` sampled for a moment, else the
load average), gives torch the rest (at least one), and says so; ``OMP_NUM_THREADS`` or
``RNNLAB_THREADS``, when set (the autograder sets the first), win.

OpenMP's passive wait (``OMP_WAIT_POLICY=PASSIVE``, threads sleep instead of spinning) was measured
and left out: it made the idle machine 2.3x slower on notebook 03's training steps
(``benchmarks/bench_busy_machine.py``), while fitting the thread count alone keeps a busy machine
within the target.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

SAMPLE_S = 0.2
BUSY_NOTE = 0.5  # busy cores, as a share of all, from which the banner warns


@dataclass(frozen=True)
class ThreadPlan:
    """``threads`` for torch, of ``cores`` usable; ``busy``: cores taken by other work when measured
    (None when not measured); ``reason``: where the number came from."""

    threads: int
    cores: int
    busy: float | None
    reason: str

    @property
    def crowded(self) -> bool:
        """Whether other work held enough of the machine to slow this run down."""
        return self.busy is not None and self.busy >= BUSY_NOTE * self.cores

    def describe(self) -> str:
        """For the banner: ``threads=1 (2 cores, 1.3 busy: busy machine, expect a slower run)``."""
        if self.busy is None:
            return f"threads={self.threads} ({self.reason})"
        note = ": busy machine, expect a slower run" if self.crowded else ""
        return f"threads={self.threads} ({self.cores} cores, {self.busy:.1f} busy{note})"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a container's share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _cpu_times() -> tuple[float, float] | None:
    """(busy, total) jiffies of all cores from ``/proc/stat``; None where there is none."""
    try:
        with open("/proc/stat") as stat:
            fields = [float(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def busy_cores(sample_s: float = SAMPLE_S) -> float:
    """Cores busy with other work right now: ``/proc/stat`` over ``sample_s`` seconds (this
    process is idle meanwhile), scaled to the machine's cores; else the 1-minute load average."""
    first = _cpu_times()
    if first is not None:
        time.sleep(sample_s)
        second = _cpu_times()
        if second is not None and second[1] > first[1]:
            share = (second[0] - first[0]) / (second[1] - first[1])
            return max(0.0, share * (os.cpu_count() or 1))
    try:
        return max(0.0, os.getloadavg()[0])
    except (AttributeError, OSError):
        return 0.0


def plan_threads(cores: int, busy: float) -> int:
    """Threads for ``cores`` cores of which ``busy`` are taken: the free ones, at least one."""
    return max(1, min(cores, int(cores - busy + 0.5)))


def fit_threads(sample_s: float = SAMPLE_S) -> ThreadPlan:
    """Choose and set torch's intra-op thread count (see the module docstring)."""
    import torch

    cores = usable_cores()
    for variable in ("RNNLAB_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(variable, "").strip()
        if value.isdigit() and int(value) > 0:
            torch.set_num_threads(int(value))
            return ThreadPlan(int(value), cores, None, f"set by {variable}")
    busy = busy_cores(sample_s)
    threads = plan_threads(cores, busy)
    torch.set_num_threads(threads)
    return ThreadPlan(threads, cores, busy, "free cores")
