"""Stand-in grading tasks for the Dask tests: a module of its own, so that worker processes
import it by name (pytest puts tests/ on the path they inherit)."""
import os


def kill_the_worker_on_doomed(name, data, *options):
    """Kill the worker process on the file ``doomed.ipynb`` (as the kernel's OOM killer would);
    give every other file 5 of 5 points."""
    if name == "doomed.ipynb":
        os._exit(9)
    from rnnlab_grader.results import FileResult

    return FileResult(name, "", "00_tiny", "A", "self", points=5.0, max_points=5.0, finished=True), 0.1
