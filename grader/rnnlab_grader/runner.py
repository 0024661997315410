"""The program that runs a submission *inside* the sandbox and reports signed per-cell verdicts.

    python -I runner.py SECRET_FD REPORT_FD  < plan.json

Why it exists: nbgrader runs the tests in the student's kernel and reads the score from a
gradebook and outputs the kernel can write, so a hook installed by an answer cell (IPython's
``showtraceback``, an AST transformer wrapping every cell in ``try``, ``sys.excepthook``) or a
write to the gradebook earns full marks for a blank notebook. Here:

* Answer cells (and cells the student added) run through IPython, as in Jupyter.
* Instructor cells (tests, hidden tests, locked cells) never go through IPython: they are
  compiled and executed directly, each in ``try``, so no IPython hook sees or rewrites them.
* Before every instructor cell a guard puts back what answer cells may have replaced: the
  ``sys`` hooks, ``builtins``, the functions of numpy/torch/math/rnnlab that tests call, the
  modules in ``sys.modules``, and the names the notebook's own imports bind (``np``,
  ``check_pair``, ...). Whatever it had to put back is *flagged*.
* An audit hook (PEP 578; it cannot be removed) refuses, while submission code runs, the
  routes to this process's memory: ``gc`` object walks, ``sys._current_frames``, tracing and
  profiling, ``ctypes``, ``/proc/*/mem``, rewriting the code of a library function or
  patching a library class. Refusals and other reaches (subprocesses, signals to other
  processes, sockets, sqlite) are flagged. The process is also made non-dumpable, so no other
  process can ptrace it or read its memory.
* Each verdict is one line ``R seq index status error mac`` on an inherited pipe, where ``mac``
  is an HMAC under a key that arrived on another pipe before any submission code ran and lives
  only in a local variable of ``main``. Printed text, files and a gradebook are never read.

What stays possible is written in the README's threat model.
"""
from __future__ import annotations

import os
import sys

CELL_PREFIX = "<rnnlab-cell "
WATCHED_MODULE_ROOTS = ("builtins", "math", "numpy", "torch", "rnnlab", "re", "json", "random")
WATCHED_MODULES_EXACT = {"numpy", "numpy.testing", "numpy.linalg", "numpy.random", "torch", "torch.nn",
                         "torch.nn.functional", "torch.testing", "torch.linalg", "torch.autograd", "math",
                         "re", "json", "random"}
TRUSTED_CLASS_ROOTS = ("torch", "numpy", "rnnlab", "builtins")
DENIED_EVENTS = {"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
                 "sys.settrace", "sys.setprofile", "sys._getframemodulename"}
FLAGGED_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
                  "os.kill", "os.killpg", "signal.pthread_kill", "sqlite3.connect", "socket.connect", "socket.bind",
                  "sys.addaudithook", "resource.setrlimit", "resource.prlimit", "pty.spawn", "os.symlink", "os.link"}
ERROR_NAME = None  # compiled in main()


class CellTimeout(BaseException):
    """Raised by SIGALRM when a cell runs past its limit."""


def _is_cell_frame(frame) -> bool:
    name = frame.f_code.co_filename
    return name.startswith(CELL_PREFIX) or name.startswith("<ipython-input-") or "/ipykernel_" in name


def main() -> int:  # noqa: C901 - one linear story; the key must stay a local of this frame
    import signal

    secret_fd, report_fd = int(sys.argv[-2]), int(sys.argv[-1])
    key = b""
    while len(key) < 32:
        chunk = os.read(secret_fd, 64)
        if not chunk:
            break
        key += chunk
    os.close(secret_fd)
    import json

    plan = json.loads(sys.stdin.buffer.read().decode())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)

    import ctypes

    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0: no ptrace, no /proc/<pid>/mem from others
    import re
    import threading
    import time
    from _hashlib import hmac_digest

    global ERROR_NAME
    ERROR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,60}")
    write, monotonic, setitimer = os.write, time.monotonic, signal.setitimer
    token_ok = re.compile(r"[A-Za-z0-9_.:\[\]+-]{1,80}").fullmatch

    # Everything the notebook's tests lean on is imported before any submission code runs.
    import builtins
    import importlib

    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in ("numpy", "torch", "matplotlib", "matplotlib.pyplot", "tqdm", "tqdm.auto", *plan["preimport"]):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module the notebook does not need here
            pass
    try:
        import tqdm

        tqdm.tqdm.monitor_interval = 0  # no monitor thread: threads left running are a tampering signal
    except Exception:  # noqa: BLE001
        pass
    expected_names = {}
    for name, module, attribute in plan["trusted_imports"]:
        try:
            value = importlib.import_module(module)
            expected_names[name] = getattr(value, attribute) if attribute else value
        except Exception:  # noqa: BLE001 - the notebook would fail on this import too
            pass
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no history database, no history thread
    shell = InteractiveShell.instance(config=config)
    namespace = shell.user_ns
    threads_at_start = len(threading.enumerate())

    def ipython_hooks():
        return (tuple(shell.custom_exceptions), tuple(shell.ast_transformers), tuple(shell.input_transformers_post),
                tuple(shell.input_transformers_cleanup), "showtraceback" in vars(shell),
                "run_cell" in vars(shell), "run_code" in vars(shell))
    ipython_at_start = ipython_hooks()

    hooks = {name: getattr(sys, name) for name in ("excepthook", "displayhook", "breakpointhook", "unraisablehook")}
    builtins_snapshot = dict(vars(builtins))
    watched = {name: module for name, module in sys.modules.items()
               if module is not None and (name in WATCHED_MODULES_EXACT or name.split(".")[0] == "rnnlab")}
    module_snapshot = {name: {k: v for k, v in vars(module).items()
                              if callable(v) or type(v).__name__ == "module"} for name, module in watched.items()}
    meta_path, path_hooks = list(sys.meta_path), list(sys.path_hooks)
    library_prefixes = tuple({os.path.dirname(os.path.dirname(m.__file__)) + os.sep for m in watched.values()
                              if getattr(m, "__file__", None) and "site-packages" in m.__file__})
    stdout, stderr = sys.stdout, sys.stderr

    flags: set[str] = set()
    active = [False]  # True while submission code (or a test calling it) runs

    def audit(event, args, isinstance=isinstance, type=type, getattr=getattr, str=str, bytes=bytes,
              fsdecode=os.fsdecode, realpath=os.path.realpath, getframe=sys._getframe):
        # Builtins and helpers are bound here, before any submission code: patching them cannot blind the hook.
        if not active[0]:
            return
        if event in DENIED_EVENTS or event.startswith("ctypes."):
            flags.add(event)
            raise PermissionError(f"{event} is not allowed while grading")
        if event == "open" and args and isinstance(args[0], (str, bytes)):
            path = fsdecode(args[0])
            for candidate in (path, realpath(path)):
                if candidate.rstrip("/").rsplit("/", 1)[-1] in ("mem", "environ", "syscall", "pagemap"):
                    flags.add("open:/proc/mem")
                    raise PermissionError("reading process memory is not allowed while grading")
            return
        if event == "object.__setattr__" and args:
            target, name = args[0], args[1] if len(args) > 1 else ""
            if type(target).__name__ == "function" and name in ("__code__", "__defaults__", "__kwdefaults__"):
                module = getattr(target, "__module__", "") or ""
                if module.split(".")[0] in TRUSTED_CLASS_ROOTS:
                    flags.add("patched-library-function")
                    raise PermissionError("rewriting a library function is not allowed while grading")
            elif isinstance(target, type) and (getattr(target, "__module__", "") or "").split(".")[0] in TRUSTED_CLASS_ROOTS:
                caller = getframe(1)
                while caller is not None and caller.f_code.co_filename.endswith(("runner.py",)):
                    caller = caller.f_back
                if caller is not None and _is_cell_frame(caller):
                    flags.add("patched-library-class")
                    raise PermissionError("patching a library class is not allowed while grading")
            return
        if event in FLAGGED_EVENTS:
            flags.add(event)

    sys.addaudithook(audit)

    seq = [0]

    def emit(kind: str, body: str) -> None:
        seq[0] += 1
        message = f"{kind}|{seq[0]}|{body}"
        mac = hmac_digest(key, message.encode(), "sha256").hex()
        write(report_fd, f"{kind} {seq[0]} {body} {mac}\n".encode())

    def report_flags(sent=set()) -> None:  # noqa: B006 - remembers what was already reported
        for token in sorted(flags - sent):
            emit("F", token if token_ok(token) else "unnamed")
            sent.add(token)

    def guard() -> None:
        """Put back what submission code may have replaced; flag what had changed."""
        for name, hook in hooks.items():
            if getattr(sys, name) is not hook:
                setattr(sys, name, hook)
                flags.add(f"sys.{name}")
        current = vars(builtins)
        for name in set(current) - set(builtins_snapshot):
            if name not in ("_", "__", "___"):
                del current[name]
                flags.add("builtins")
        for name, value in builtins_snapshot.items():
            if current.get(name, None) is not value:
                current[name] = value
                flags.add("builtins")
        for name, module in watched.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                flags.add(f"sys.modules[{name}]")
            attributes = vars(module)
            for attribute, value in module_snapshot[name].items():
                replacement = attributes.get(attribute, None)
                if replacement is not value:
                    attributes[attribute] = value  # always put back; flag unless a library wrapped its own
                    origin = getattr(getattr(replacement, "__code__", None), "co_filename", "")
                    if not origin.startswith(library_prefixes):
                        flags.add(f"{name}.{attribute}" if len(name) + len(attribute) < 70 else "library-function")
        if sys.meta_path != meta_path or sys.path_hooks != path_hooks:
            sys.meta_path[:], sys.path_hooks[:] = meta_path, path_hooks
            flags.add("import-hooks")
        for name, value in expected_names.items():
            if name in namespace and namespace[name] is not value:
                flags.add(f"rebound:{name}")
            namespace[name] = value
        if namespace.get("__builtins__") is not builtins:
            if "__builtins__" in namespace:
                flags.add("builtins")
            namespace["__builtins__"] = builtins
        sys.stdout, sys.stderr = stdout, stderr
        if len(threading.enumerate()) > threads_at_start:
            flags.add("thread")
        if ipython_hooks() != ipython_at_start:
            flags.add("ipython-hooks")  # they only ever touch answer cells; tests do not go through IPython

    def on_alarm(signum, frame):
        raise CellTimeout()

    cell_s = float(plan["cell_timeout"])
    guard()
    for step in plan["cells"]:
        index, kind, source = step["index"], step["kind"], step["source"]
        signal.signal(signal.SIGALRM, on_alarm)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
        status, error = "pass", "-"
        started = monotonic()
        active[0] = True
        try:
            setitimer(signal.ITIMER_REAL, cell_s)
            if kind == "student":
                result = shell.run_cell(source, store_history=False, silent=True)
                failure = result.error_in_exec or result.error_before_exec
                if isinstance(failure, CellTimeout):
                    status, error = "timeout", "CellTimeout"
                elif failure is not None:
                    status, error = "fail", type(failure).__name__
            else:
                exec(compile(source, f"{CELL_PREFIX}{index}>", "exec"), namespace)  # noqa: S102 - instructor code
        except CellTimeout:
            status, error = "timeout", "CellTimeout"
        except BaseException as failure:  # noqa: BLE001 - every way a test can fail is a fail
            status, error = "fail", type(failure).__name__
        finally:
            setitimer(signal.ITIMER_REAL, 0)
            active[0] = False
        guard()  # before any of this runner's own code runs again, and before the next test
        if status == "fail" and monotonic() - started >= cell_s * 0.999:
            status, error = "timeout", "CellTimeout"  # the submission's own handler swallowed the alarm
        emit("R", f"{index} {status} {error if ERROR_NAME.fullmatch(error) else 'Error'}")
        report_flags()
    report_flags()
    emit("D", "end")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # no interpreter shutdown: nothing the submission registered (atexit, __del__) runs after us
