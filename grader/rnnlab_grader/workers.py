"""Where files are graded: threads of this machine (``LocalWorkers``) or a Dask cluster
(``DaskWorkers``, ``rnnlab-grade ... --scheduler tcp://host:8786``), and ``grade_all``, which
runs a class of files on either.

Both run the same ``pipeline.grade_timed`` per file. On a cluster each file's bytes are one task:
the worker that takes it writes them to a private temporary folder, builds its own bubblewrap
sandbox and grades the file in the lowest free sandbox slot of its machine; only the result comes
back. The releases and the solutions' reference records reach every worker once through a worker
plugin (those that join or restart later too), so grading tasks have no dependency and the
scheduler sends a worker only the files it is grading: a worker that dies takes no queued file
with it. Every worker needs the course checkout (``make install``) and bubblewrap (README,
"Grading on a cluster"); only the Dask path imports ``distributed``. Threads per sandbox:
``--threads``, or the machine's cores shared among the worker threads of that machine.
"""
from __future__ import annotations

import os
import socket
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm.auto import tqdm

from . import pipeline, submissions
from .results import FileResult, ReasonKind, ungradable
from .sandbox import Cancelled, Limits, Sandbox, SandboxUnavailable
from .sanitise import one_line
from .store import Store

PLUGIN = "rnnlab-releases"


class LocalWorkers:
    """``jobs`` threads of this process, each grading one file at a time in its own sandbox."""

    def __init__(self, releases, references, sandbox: Sandbox, jobs: int, threads: int | None):
        self.releases, self.references, self.sandbox, self.threads = releases, references, sandbox, threads
        self.pool = ThreadPoolExecutor(jobs)
        self.description = f"{jobs} at once, {threads or 'all'} thread(s) each"

    def results(self, todo: list[tuple[Path, str]]):
        """``(name, future)`` for each file as it finishes."""
        futures = {self.pool.submit(pipeline.grade_timed, path, name, self.releases, self.references, self.sandbox,
                                    self.threads): name for path, name in todo}
        for future in as_completed(futures):
            yield futures[future], future

    def close(self) -> None:
        """Wait for the files being graded; those not started are dropped (after a Ctrl-C the
        sandboxes end at once, ``sandbox.STOP``)."""
        self.pool.shutdown(wait=True, cancel_futures=True)


def grade_all(todo: list[tuple[Path, str]], workers, store: Store) -> list[FileResult]:
    """Grade ``(path, name)`` pairs on ``workers`` (``LocalWorkers`` or ``DaskWorkers``); each result
    reaches the store as its file finishes. A worker that fails on one file costs that file's
    result only. Returns the results, in the order files finished."""
    failed, graded = 0, []
    with tqdm(total=len(todo), desc="grading", unit="file", disable=not sys.stderr.isatty()) as bar:
        for name, future in workers.results(todo):
            try:
                result, seconds = future.result()
            except Cancelled:
                continue
            except pipeline.ReferenceFailed:
                raise  # the course cannot be graded blind: the session stops and says why
            except Exception as error:  # noqa: BLE001 - a worker that died, a lost connection
                result, seconds = pipeline.grader_failed(name, error), 0.0
            store.add(result)
            graded.append(result)
            failed += not result.finished
            bar.update(1)
            bar.set_postfix(failed=failed, refresh=False)
            bar.write(progress_line(result, seconds))
    return graded


def progress_line(result: FileResult, seconds: float) -> str:
    """One finished file as the progress output shows it."""
    reasons = "; ".join(result.reason_texts())
    return (f"  {one_line(result.path, 80)}: {result.points:g}/{result.max_points:g} in {seconds:.0f} s"
            + (f"  ({one_line(reasons, 300)})" if reasons else ""))


def _host(address: str) -> str:
    return address.split("://")[-1].rsplit(":", 1)[0]


def grade_bytes(name: str, data: bytes, modified: float | None, limits: Limits, unsafe: bool, first_slot: int,
                threads: int | dict[str, int] | None) -> tuple[FileResult, float]:
    """On a Dask worker: grade the submitted file ``data`` (named ``name`` in the tables, last
    modified at ``modified``).
    ``threads`` per sandbox, or the worker threads of each host, among which its cores are shared."""
    from distributed import get_worker

    worker = get_worker()
    plugin = worker.plugins[PLUGIN]
    if not isinstance(threads, int):
        sharing = (threads or {}).get(_host(worker.address), worker.state.nthreads)
        threads = max(1, (os.cpu_count() or 1) // max(1, sharing))
    sandbox = pipeline.new_sandbox(limits, first_slot, unsafe)
    try:
        sandbox.check()
    except SandboxUnavailable as error:
        return ungradable(name, f"worker {socket.gethostname()} cannot sandbox ({error}); grade it again",
                                   ReasonKind.GRADER), 0.0
    with tempfile.TemporaryDirectory(prefix="rnnlab-grade-") as folder:
        path = Path(folder) / "submission.ipynb"
        path.write_bytes(data)
        if modified is not None:
            os.utime(path, (modified, modified))
        return pipeline.grade_timed(path, name, plugin.releases, plugin.references, sandbox, threads)


try:  # the Dask path only; a machine without ``distributed`` grades locally
    from distributed import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover
    _WorkerPlugin = object


class Releases(_WorkerPlugin):
    """A worker plugin holding the releases and the solutions' reference records on every worker."""

    name = PLUGIN

    def __init__(self, releases, references):
        self.releases, self.references = releases, references


class DaskWorkers:
    """The workers of the Dask scheduler at ``address``, one file per worker thread at a time."""

    def __init__(self, address: str, releases, references, limits: Limits, unsafe: bool, first_slot: int,
                 threads: int | None):
        from distributed import Client

        self.client = Client(address, timeout="30s")
        self.client.register_plugin(Releases(releases, references))
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        per_host: dict[str, int] = {}
        for worker, info in workers.items():
            per_host[_host(worker)] = per_host.get(_host(worker), 0) + info["nthreads"]
        self.options = (limits, unsafe, first_slot, threads or per_host)
        self.in_flight = 2 * max(1, sum(per_host.values()))  # files held in memory at once
        self.description = (f"on the Dask cluster at {address}: {len(workers)} workers, "
                            f"{sum(per_host.values())} threads")

    def submit(self, path: Path, name: str):
        """A future of ``(result, seconds)``: the file's bytes sent to a worker, or, for a file refused
        before any byte is read (a link, an empty or oversized file), its result at once."""
        try:
            submissions.check_file(path)
            with submissions.open_regular(path) as handle:
                data = handle.read(submissions.MAX_BYTES + 1)
                modified = os.fstat(handle.fileno()).st_mtime
        except submissions.Unreadable as error:
            return _Done((ungradable(name, str(error)), 0.0))
        except OSError as error:
            return _Done((ungradable(name, f"could not read the file ({type(error).__name__})"), 0.0))
        return self.client.submit(grade_bytes, name, data, modified, *self.options, pure=False)

    def results(self, todo: list[tuple[Path, str]]):
        """``(name, future)`` for each file as it finishes; at most ``in_flight`` files are sent
        and not yet back, so a class of large files is never all in memory at once."""
        from distributed import as_completed as finished

        waiting, running = list(reversed(todo)), finished()
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
    """A result decided without a worker (a link, an empty or oversized file): a finished future."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value
