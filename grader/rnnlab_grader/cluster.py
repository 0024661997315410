"""Grading on a Dask cluster: ``rnnlab-grade ... --scheduler tcp://host:8786`` (``make grade SCHEDULER=``).

Each submission is a task: the grader sends the file's bytes, and the worker that takes it
writes them to a private temporary folder, builds its own bubblewrap sandbox and grades the
file exactly as a local job does (``cli.grade_timed``), in the lowest free sandbox slot of its
machine. Only the row comes back. The sandbox, the signed verdicts and the limits are the same
as on one machine; Dask only decides where a file is graded.

Every worker needs the same course checkout (``make install``) and bubblewrap, and runs the
course's Python (README, "Grading on a cluster": ``dask scheduler`` with a worker saturation of
1.0 on one machine, ``dask worker tcp://host:8786 --nworkers <cores> --nthreads 1`` on the
others, or ``dask-jobqueue`` on a SLURM/PBS cluster). Only this module needs ``distributed``.
The workers' threads per sandbox: ``--threads``, or the machine's cores shared among the
worker threads of that worker process. A worker that cannot sandbox refuses every file it
is given, with the reason in the row; a worker that dies mid-file costs that file's row only
(after Dask's own retries on other workers).
"""
from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

from distributed import Client, WorkerPlugin, as_completed, get_worker

from . import cli, submissions
from .sandbox import Limits, Sandbox, SandboxUnavailable

PLUGIN = "rnnlab-releases"


class Releases(WorkerPlugin):
    """A worker plugin that holds the course's releases on every worker, those that join or
    restart later included: grading tasks then have no dependency, so the scheduler sends a
    worker only the files it is grading (a worker that dies takes no queued file with it)."""

    name = PLUGIN

    def __init__(self, releases):
        self.releases = releases


def _host(address: str) -> str:
    return address.split("://")[-1].rsplit(":", 1)[0]


def grade_bytes(name: str, data: bytes, limits: Limits, unsafe: bool, first_slot: int,
                threads: int | dict[str, int] | None) -> tuple[dict, float]:
    """On a worker: grade the submitted file ``data`` (named ``name`` in the tables). ``threads``
    per sandbox, or the worker threads of each host, among which its cores are shared."""
    worker = get_worker()
    releases = worker.plugins[PLUGIN].releases
    if not isinstance(threads, int):
        sharing = (threads or {}).get(_host(worker.address), worker.state.nthreads)
        threads = max(1, (os.cpu_count() or 1) // max(1, sharing))
    sandbox = Sandbox(cli.readable_paths(), limits, slot=first_slot, unsafe=unsafe, hidden=[cli.REFERENCE])
    try:
        sandbox.check()
    except SandboxUnavailable as error:
        row = cli.empty_row(name, f"worker {socket.gethostname()} cannot sandbox ({error}); grade it again")
        return row, 0.0
    with tempfile.TemporaryDirectory(prefix="rnnlab-grade-") as folder:
        path = Path(folder) / "submission.ipynb"
        path.write_bytes(data)
        return cli.grade_timed(path, name, releases, sandbox, threads)


class DaskWorkers:
    """The workers of the Dask scheduler at ``address``, one file per worker thread at a time."""

    def __init__(self, address: str, releases, limits: Limits, unsafe: bool, first_slot: int,
                 threads: int | None):
        self.client = Client(address, timeout="30s")
        self.client.register_plugin(Releases(releases))
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        per_host: dict[str, int] = {}
        for worker, info in workers.items():
            per_host[_host(worker)] = per_host.get(_host(worker), 0) + info["nthreads"]
        self.options = (limits, unsafe, first_slot, threads or per_host)
        self.in_flight = 2 * max(1, sum(per_host.values()))  # files held in memory at once
        self.description = (f"on the Dask cluster at {address}: {len(workers)} workers, "
                            f"{sum(per_host.values())} threads")

    def submit(self, path: Path, name: str):
        """A future of ``(row, seconds)``: the file's bytes sent to a worker, or, for a file refused
        before any byte is read (a link, an empty or oversized file), its row at once."""
        try:
            submissions.check_file(path)
            data = path.read_bytes()
        except submissions.Unreadable as error:
            return _Done((cli.empty_row(name, str(error)), 0.0))
        except OSError as error:
            return _Done((cli.empty_row(name, f"could not read the file ({type(error).__name__})"), 0.0))
        return self.client.submit(grade_bytes, name, data, *self.options, pure=False)

    def results(self, todo: list[tuple[Path, str]]):
        """``(name, future)`` for each file as it finishes; at most ``in_flight`` files are sent
        and not yet back, so a class of large files is never all in memory at once."""
        waiting, running = list(reversed(todo)), as_completed()
        names = {}
        while waiting or running.count():
            while waiting and running.count() < self.in_flight:
                path, name = waiting.pop()
                future = self.submit(path, name)
                if isinstance(future, _Done):
                    yield name, future
                    continue
                names[future.key] = name
                running.add(future)
            if running.count():
                future = next(running)
                yield names.pop(future.key), future

    def close(self) -> None:
        self.client.close()


class _Done:
    """A row decided without a worker (a link, an empty or oversized file): a finished future."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value
