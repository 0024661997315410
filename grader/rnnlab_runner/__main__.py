"""The runner's program: ``python -I rnnlab_runner/__main__.py REPORT_FD DISPLAY_FD < plan.json``
(see the package's docstring). Everything is imported and built before the first submission cell;
nothing is signed: the report is a claim the grader judges outside the sandbox."""
import os
import sys

if __name__ == "__main__":  # the folder that holds this package (the sandbox binds the package only)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> int:
    import json

    report_fd, display_fd = int(sys.argv[-2]), int(sys.argv[-1])
    plan = json.loads(sys.stdin.buffer.read().decode())
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    import ctypes

    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0: no ptrace, no /proc/<pid>/mem from others
    from rnnlab_runner import audit, cells, guards, protocol, shell

    shell.preimport(plan["preimport"])
    expected = shell.trusted_names(plan["trusted_imports"])
    notebook = shell.new_shell()
    interpreter = shell.Interpreter(notebook)
    sys.meta_path.insert(0, shell.RefuseReferences)
    recording = install_recorder(int(plan.get("seed", 0)))
    flags: set[str] = set()
    snapshot = guards.Snapshot()
    rewraps = guards.make_rewraps(snapshot.library_prefixes)
    guarded_module = guards.make_guarded_module(flags, snapshot, rewraps)
    runner = cells.CellRunner(plan, notebook, None, recording, snapshot.builtins,
                              make_emit(display_fd), protocol.ERROR_NAME.fullmatch)
    names = {"namespace": notebook.user_ns, "expected": expected, "course": runner.course_names}
    runner.guard = guards.make_guard(snapshot, flags, rewraps, names, interpreter)
    runner.guard()
    guards.arm(snapshot, guarded_module)
    sys.addaudithook(audit.make_audit(flags, snapshot.library_prefixes, guarded_module))
    emit = make_emit(report_fd)  # in this frame like plan and flags: tests/test_verdict_boundary.py reaches for them
    run_plan(plan["cells"], runner, emit, flags)
    return 0


def install_recorder(seed: int) -> dict:
    """``rnnlab.checks.record`` hands its values to this run's recorder; tests draw with ``seed``."""
    import numpy
    import torch

    import rnnlab.checks
    from rnnlab_runner import encode

    recording: dict[str, object] = {"entries": None, "filename": None}
    rnnlab.checks._recorder = encode.make_recorder(recording, encode.make_plain(numpy, torch))
    rnnlab.checks._seed_offset = seed
    return recording


def make_emit(fd: int):
    """Write one JSON line to ``fd`` (the report or the display channel), whole."""
    import json

    def emit(message: dict, dumps=json.dumps, write=os.write) -> None:
        data = (dumps(message, allow_nan=True) + "\n").encode()
        while data:
            data = data[write(fd, data):]

    return emit


def run_plan(planned: list, runner, emit, flags: set) -> None:
    """The cell loop: each cell's report line, the flags found so far, and the end."""
    from rnnlab_runner.protocol import END, FLAG, TOKEN

    token_ok, sent = TOKEN.fullmatch, set()

    def report_flags() -> None:
        for token in sorted(flags - sent):
            emit({"t": FLAG, "name": token if token_ok(token) else "unnamed"})
            sent.add(token)

    for step in planned:
        message = runner.run(step)
        try:
            emit(message)
        except (TypeError, ValueError, RecursionError):
            emit({**message, "status": "fail", "error": "RecordError", "records": []})
        report_flags()
    report_flags()
    emit({"t": END})


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # no interpreter shutdown: nothing the submission registered (atexit, __del__) runs after us
