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
  ``sys`` hooks, ``builtins``, the functions and constants of numpy/torch/math/rnnlab, the
  modules in ``sys.modules``, and the names the notebook's own imports bind (``np``,
  ``check_pair``, ...). Whatever it had to put back is *flagged*.
* An audit hook (PEP 578; it cannot be removed) refuses, while submission code runs, the
  routes to this process's memory: ``gc`` object walks, ``sys._current_frames``, tracing and
  profiling, ``ctypes``, ``/proc/*/mem``, rewriting the code of a library function or
  patching a library class. Refusals and other reaches (subprocesses, signals to other
  processes, sockets, sqlite) are flagged. The process is also made non-dumpable, so no other
  process can ptrace it or read its memory.
* The instructor-only references that hidden tests import (``rnnlab_reference``) arrive in the
  plan and are handed to test cells only, through their own ``__import__``.
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
DENIED_EVENTS = frozenset({"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
                 "sys.settrace", "sys.setprofile", "sys._getframemodulename"})
FLAGGED_EVENTS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
                  "os.kill", "os.killpg", "signal.pthread_kill", "sqlite3.connect", "socket.connect", "socket.bind",
                  "sys.addaudithook", "resource.setrlimit", "resource.prlimit", "pty.spawn", "os.symlink", "os.link"})
REFERENCE_PACKAGE = "rnnlab_reference"  # instructor-only; tests get it from the plan (see main)
TRANSIENT_BUILTINS = frozenset({"_", "__", "___", "exit", "quit", "get_ipython", "display"})
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
    import types

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
    running_threads = threading.enumerate  # bound before submission code could replace it
    threads_at_start = len(running_threads())

    shell_class, traits = type(shell), shell._trait_values  # a plain dict: reading it runs no submission code
    hook_traits = ("custom_exceptions", "ast_transformers", "input_transformers_post", "input_transformers_cleanup")
    for name in hook_traits:
        getattr(shell, name)  # traitlets fills _trait_values on first read

    def ipython_hooks(type_of=type, tuple_type=tuple, list_type=list, vars=vars):
        state = [type_of(shell) is shell_class, "showtraceback" in vars(shell), "run_cell" in vars(shell),
                 "run_code" in vars(shell)]
        attributes = vars(shell)
        for name in hook_traits:  # traits live in _trait_values, custom_exceptions in the instance dict
            value = traits[name] if name in traits else attributes.get(name)
            state.append(tuple_type(value) if type_of(value) in (tuple_type, list_type) else id(value))
        return state
    ipython_at_start = ipython_hooks()

    # The instructor-only references (rnnlab_reference) reach test cells only. They are built here
    # from the sources in the plan, before any submission code, and are never in sys.modules or on
    # a path the sandbox shows: tests import them through a private __import__ in their own
    # builtins, and an answer cell's ``import rnnlab_reference`` finds nothing.
    references: dict[str, object] = {}
    for name, source in plan.get("reference", {}).items():  # the package first, then its modules
        module = types.ModuleType(name)
        module.__file__ = f"<{name}>"
        sys.modules[name] = module  # dataclasses look their module up while a class is built
        try:
            exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - the instructor's code
        finally:
            del sys.modules[name]
        references[name] = module
        parent, _, child = name.rpartition(".")
        if parent in references:
            setattr(references[parent], child, module)

    class RefuseReferences:
        """A meta-path finder that keeps an installed copy of rnnlab_reference out of answer cells."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            if name.split(".")[0] == REFERENCE_PACKAGE:
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, RefuseReferences)

    def import_for_tests(name, globals=None, locals=None, fromlist=(), level=0, real_import=builtins.__import__,
                         references=references):
        if level == 0 and name.split(".")[0] == REFERENCE_PACKAGE:
            if name not in references:
                raise ModuleNotFoundError(f"No module named {name!r}")
            return references[name] if fromlist else references[REFERENCE_PACKAGE]
        return real_import(name, globals, locals, fromlist, level)

    test_builtins = {**vars(builtins), "__import__": import_for_tests}

    hooks = {name: getattr(sys, name) for name in ("excepthook", "displayhook", "breakpointhook", "unraisablehook")}
    builtins_snapshot = dict(vars(builtins))
    watched = {name: module for name, module in sys.modules.items()
               if module is not None and (name in WATCHED_MODULES_EXACT or name.split(".")[0] == "rnnlab")}
    watched["builtins"] = builtins
    module_snapshot = {name: {k: v for k, v in vars(module).items() if not (k.startswith("__") and k.endswith("__"))}
                       for name, module in watched.items()}  # functions, classes, submodules and constants
    meta_path, path_hooks, modules = list(sys.meta_path), list(sys.path_hooks), sys.modules
    library_prefixes = tuple({os.path.dirname(os.path.dirname(m.__file__)) + os.sep for m in watched.values()
                              if getattr(m, "__file__", None) and "site-packages" in m.__file__})
    stdout, stderr = sys.stdout, sys.stderr

    flags: set[str] = set()

    def rewraps(new, old, function=types.FunctionType, type_of=type, str_type=str):
        """Whether ``new`` is ``old`` wrapped only by library code (torch wraps some of its own
        functions on first use); a wrapper written in a cell, or anything but a plain function, is
        not. Only plain functions are looked into, so no submission-defined attribute code runs."""
        for _ in range(8):
            if new is old:
                return True
            if type_of(new) is not function:
                return False
            filename = new.__code__.co_filename
            if type_of(filename) is not str_type or not filename.startswith(library_prefixes):
                return False
            new = new.__dict__.get("__wrapped__")
        return False

    class GuardedModule(types.ModuleType):
        """While submission code runs, a library function cannot be replaced (``math.isclose = ...``
        inside an answer that a test calls would otherwise stay in force for the rest of the test)."""

        def __setattr__(self, name, value):
            original = snapshot_of.get(self.__name__, {}).get(name, value) if type(name) is str else value
            if original is not value and not rewraps(value, original):
                flags.add(f"{self.__name__}.{name}" if len(self.__name__) + len(name) < 70 else "library-function")
                raise PermissionError(f"replacing {self.__name__}.{name} is not allowed while grading")
            super().__setattr__(name, value)

        def __delattr__(self, name):
            if type(name) is str and name in snapshot_of.get(self.__name__, {}):
                flags.add(f"{self.__name__}.{name}" if len(self.__name__) + len(name) < 70 else "library-function")
                raise PermissionError(f"deleting {self.__name__}.{name} is not allowed while grading")
            super().__delattr__(name)

    snapshot_of = {module.__name__: module_snapshot[name] for name, module in watched.items()}

    def audit(event, args, isinstance=isinstance, type_of=type, str_type=str, bytes_type=bytes,
              function=types.FunctionType, module_of_type=type.__dict__["__module__"].__get__,
              fsdecode=os.fsdecode, realpath=os.path.realpath, getframe=sys._getframe, denied=DENIED_EVENTS,
              flagged=FLAGGED_EVENTS, trusted=TRUSTED_CLASS_ROOTS, is_cell_frame=_is_cell_frame,
              guarded_module=GuardedModule):
        # Installed after the course's imports and never disarmed. Everything it uses is bound here,
        # before any submission code, and it touches submission objects only through slots that
        # run no submission code, so patching builtins or this module's globals cannot blind it.
        if event in denied or event.startswith("ctypes."):
            flags.add(event)
            raise PermissionError(f"{event} is not allowed while grading")
        if event == "open" and args and type_of(args[0]) in (str_type, bytes_type):
            path = fsdecode(args[0])
            for candidate in (path, realpath(path)):
                if candidate.rstrip("/").rsplit("/", 1)[-1] in ("mem", "environ", "syscall", "pagemap"):
                    flags.add("open:/proc/mem")
                    raise PermissionError("reading process memory is not allowed while grading")
            return
        if event == "object.__setattr__" and len(args) > 1:
            target, name = args[0], args[1]
            if name == "__class__" and type_of(target) is guarded_module:
                flags.add("module-class")
                raise PermissionError("changing the class of a guarded module is not allowed while grading")
            if type_of(target) is function and name in ("__code__", "__defaults__", "__kwdefaults__"):
                module = target.__module__
                if type_of(module) is str_type and module.split(".")[0] in trusted:
                    flags.add("patched-library-function")
                    raise PermissionError("rewriting a library function is not allowed while grading")
            elif isinstance(target, type):
                module = module_of_type(target)
                if type_of(module) is str_type and module.split(".")[0] in trusted and is_cell_frame(getframe(1)):
                    flags.add("patched-library-class")
                    raise PermissionError("patching a library class is not allowed while grading")
            return
        if event in ("compile", "code.__new__") and len(args) > 1 and type_of(args[1]) in (str_type, bytes_type):
            if fsdecode(args[1]).startswith(library_prefixes) and is_cell_frame(getframe(1)):
                flags.add("code-in-library-name")
                raise PermissionError("compiling code under a library's file name is not allowed while grading")
            return
        if event in flagged:
            flags.add(event)


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

    def guard(type_of=type, str_type=str, list_type=list, getattr=getattr, setattr=setattr, len=len, vars=vars,
              any=any, zip=zip) -> None:
        """Put back what submission code may have replaced; flag what had changed. Compares by
        identity and writes through plain dicts and attributes, so no submission-defined method
        (``__eq__``, ``__hash__``, a list subclass) runs here."""
        for name, hook in hooks.items():
            if getattr(sys, name) is not hook:
                setattr(sys, name, hook)
                flags.add(f"sys.{name}")
        if sys.modules is not modules:
            sys.modules = modules
            flags.add("sys.modules")
        for attribute, original in (("meta_path", meta_path), ("path_hooks", path_hooks)):
            current = getattr(sys, attribute)
            if (type_of(current) is not list_type or len(current) != len(original)
                    or any(a is not b for a, b in zip(current, original))):
                setattr(sys, attribute, list_type(original))
                flags.add("import-hooks")
        current = vars(builtins)
        for name in list_type(current):
            if type_of(name) is str_type and name not in builtins_snapshot and name not in TRANSIENT_BUILTINS:
                del current[name]
                flags.add("builtins")
        for name, value in builtins_snapshot.items():
            if current.get(name, None) is not value:
                current[name] = value
                flags.add("builtins")
        for name, module in watched.items():
            if modules.get(name) is not module:
                modules[name] = module
                flags.add(f"sys.modules[{name}]")
            attributes = vars(module)
            for attribute, value in module_snapshot[name].items():
                replacement = attributes.get(attribute, None)
                if replacement is not value:
                    attributes[attribute] = value  # always put back; flag unless a library wrapped its own
                    if not rewraps(replacement, value):
                        flags.add(f"{name}.{attribute}" if len(name) + len(attribute) < 70 else "library-function")
        for name, value in [*expected_names.items(), *course_names.items()]:
            if name in namespace and namespace[name] is not value:
                flags.add(f"rebound:{name}")
            namespace[name] = value
        if namespace.get("__builtins__") is not builtins:
            if "__builtins__" in namespace:
                flags.add("builtins")
            namespace["__builtins__"] = builtins
        sys.stdout, sys.stderr = stdout, stderr
        if len(running_threads()) > threads_at_start:
            flags.add("thread")
        if ipython_hooks() != ipython_at_start:
            flags.add("ipython-hooks")  # they only ever touch answer cells; tests do not go through IPython

    timeout_error = CellTimeout

    def on_alarm(signum, frame):
        raise timeout_error()

    install_handler, unblock, alarm, unblock_how = signal.signal, signal.pthread_sigmask, signal.SIGALRM, signal.SIG_UNBLOCK
    timer, run_code, compile_code = signal.ITIMER_REAL, exec, compile
    exc_info, traceback_type, int_type, str_type = sys.exc_info, types.TracebackType, int, str

    def failing_line(tb, filename: str, type_of=type) -> int:
        """The line of the test cell ``filename`` where its exception came from (0: none): the
        feedback shows that line of a *visible* test, read from the release, never a message the
        submission made. Reads only traceback and code objects, so no submission code runs."""
        line, steps = 0, 0
        while type_of(tb) is traceback_type and steps < 100_000:
            name = tb.tb_frame.f_code.co_filename
            if type_of(name) is str_type and name == filename and type_of(tb.tb_lineno) is int_type:
                line = tb.tb_lineno
            tb, steps = tb.tb_next, steps + 1
        return line if 0 <= line < 100_000 else 0

    cell_s = float(plan["cell_timeout"])
    debug = bool(plan.get("debug"))  # tracebacks of course cells to stderr (the grader's RNNLAB_GRADE_DEBUG)
    import traceback

    course_names: dict[str, object] = {}
    test_names: dict[str, object] = {}
    type_of, is_instance = type, isinstance
    guard()
    for module in watched.values():  # armed from here on, never disarmed
        if type(module) is types.ModuleType:
            try:
                module.__class__ = GuardedModule
            except TypeError:
                pass
    sys.addaudithook(audit)
    for step in plan["cells"]:
        index, kind, source = step["index"], step["kind"], step["source"]
        install_handler(alarm, on_alarm)
        unblock(unblock_how, {alarm})
        status, error, line = "pass", "-", 0
        started = monotonic()
        try:
            setitimer(timer, cell_s)
            if kind == "student":
                result = shell.run_cell(source, store_history=False, silent=True)
                failure = result.error_in_exec or result.error_before_exec
                if is_instance(failure, timeout_error):
                    status, error = "timeout", "CellTimeout"
                elif failure is not None:
                    status, error = "fail", type_of(failure).__name__
            elif kind == "test":
                # Tests run in their own globals: the notebook's names plus what earlier tests defined
                # (helpers, references). What a test computes (expected values) is invisible to the
                # answers it calls, whose globals are the notebook's.
                test_globals = {**namespace, **test_names, "__builtins__": test_builtins}
                try:
                    run_code(compile_code(source, f"{CELL_PREFIX}{index}>", "exec"), test_globals)  # noqa: S102
                finally:
                    test_names.update({k: v for k, v in test_globals.items()
                                       if type_of(k) is str and (k not in namespace or namespace[k] is not v)})
            else:
                run_code(compile_code(source, f"{CELL_PREFIX}{index}>", "exec"), namespace)  # noqa: S102 - course code
        except timeout_error:
            status, error = "timeout", "CellTimeout"
        except BaseException as failure:  # noqa: BLE001 - every way a test can fail is a fail
            status, error = "fail", type_of(failure).__name__
            if kind == "test":
                line = failing_line(exc_info()[2], f"{CELL_PREFIX}{index}>")
            if debug:
                traceback.print_exc()
        finally:
            setitimer(timer, 0)
        guard()  # before any of this runner's own code runs again, and before the next test
        for name in step.get("defines", ()):  # functions, classes and imports of the course's own cells
            if name in namespace:
                course_names[name] = namespace[name]
        if status == "fail" and monotonic() - started >= cell_s * 0.999:
            status, error = "timeout", "CellTimeout"  # the submission's own handler swallowed the alarm
        emit("R", f"{index} {status} {error if ERROR_NAME.fullmatch(error) else 'Error'} {line}")
        report_flags()
    report_flags()
    emit("D", "end")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # no interpreter shutdown: nothing the submission registered (atexit, __del__) runs after us
