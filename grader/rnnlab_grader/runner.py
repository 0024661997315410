"""The program that runs a notebook *inside* a sandbox and reports, per cell, what happened and
what its tests recorded.

    python -I runner.py REPORT_FD DISPLAY_FD  < plan.json

The same program runs twice per submission, in two separate sandboxes: once over the student's
cells and once over the solution's (``reference``). **It decides nothing.** Code in an answer
cell owns this whole interpreter (its frames, globals, every object), so whatever this process
says about a student's run is only that run's *claim*: which cells finished, and the values the
test cells handed to ``rnnlab.checks.record`` (converted here to plain JSON data). The grader,
outside every sandbox, compares that claim with the solution's run test by test
(``verdicts.judge``); a forged claim can only describe values the submission did not compute, and
matching the solution's values means computing them. No key, no reference implementation and no
expected value is ever in this process.

What it still does for honest students (and as hints for a person, never as the defence):

* Answer cells (and cells the student added) run through IPython, as in Jupyter. Instructor
  cells (tests, locked course cells) are compiled and executed directly, each in ``try``.
* Before every instructor cell a guard puts back what answer cells may have replaced by accident
  or on purpose: ``sys`` hooks, ``builtins``, the functions and constants of numpy/torch/math/
  rnnlab, ``sys.modules`` and the names the course's imports bind; each test starts from fresh
  globals and a fresh copy of the builtins. What it had to put back is *flagged*.
* An audit hook refuses the common routes to this process's memory (``gc`` walks,
  ``sys._current_frames``, tracing, ``ctypes``, ``/proc/*/mem``) and flags subprocesses, signals,
  sockets. A submission can suppress any of these flags: they are hints only.
* Report lines are JSON, one per cell (``{"t": "cell", ...}``), per flag and at the end. With
  ``"outputs"`` in the plan, what each answer or course cell printed and the figures it left open
  go to a second channel, DISPLAY_FD (``{"t": "output", ...}``: bounded text and PNGs, closed
  after each cell as Jupyter's inline backend does), for the instructor's graded copy only: they
  never share the report's pipe or its bound, and never reach a verdict. Files the notebook
  writes are never read.
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
FLAGGED_EVENTS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "os.kill", "os.killpg", "signal.pthread_kill", "sqlite3.connect", "socket.connect",
                  "socket.bind", "sys.addaudithook", "resource.setrlimit", "resource.prlimit", "pty.spawn",
                  "os.symlink", "os.link"})
OUTPUT_CHARS, OUTPUT_FIGURES, OUTPUT_PNG_BYTES, OUTPUT_DPI = 20_000, 4, 1_000_000, 60
REFERENCE_PACKAGE = "rnnlab_reference"  # instructor-only; tests get it from the plan (see main)
TRANSIENT_BUILTINS = frozenset({"_", "__", "___", "exit", "quit", "get_ipython", "display"})
ERROR_NAME = None  # compiled in main()


class CellTimeout(BaseException):
    """Raised by SIGALRM when a cell runs past its limit."""


def _is_cell_frame(frame) -> bool:
    name = frame.f_code.co_filename
    return name.startswith(CELL_PREFIX) or name.startswith("<ipython-input-") or "/ipykernel_" in name


def main() -> int:
    import signal

    report_fd, display_fd = int(sys.argv[-2]), int(sys.argv[-1])  # nothing is signed: a report is a claim
    import json

    plan = json.loads(sys.stdin.buffer.read().decode())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)

    import ctypes

    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0: no ptrace, no /proc/<pid>/mem from others
    import re
    import threading
    import time
    global ERROR_NAME
    ERROR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,60}")
    write, monotonic, setitimer = os.write, time.monotonic, signal.setitimer
    token_ok = re.compile(r"[A-Za-z0-9_.:\[\]+-]{1,80}").fullmatch
    dumps = json.dumps

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
    listdir = os.listdir

    def os_threads() -> int:
        """The process's OS threads (raw ``_thread`` threads too, which ``threading`` never sees)."""
        try:
            return len(listdir("/proc/self/task"))
        except OSError:
            return 0
    os_threads_at_start = os_threads()
    try:  # torch starts its intra-op pool on first parallel use: those threads are not the submission's
        import torch

        os_threads_allowed = os_threads_at_start + torch.get_num_threads() + torch.get_num_interop_threads()
    except Exception:  # noqa: BLE001
        os_threads_allowed = os_threads_at_start + 4

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

    # The instructor-only references (rnnlab_reference) never reach this process: tests need no
    # reference (the solution's own run is the reference). An installed copy is mounted empty by
    # the sandbox and refused here as well.
    class RefuseReferences:
        """A meta-path finder that keeps an installed copy of rnnlab_reference out of answer cells."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            if name.split(".")[0] == REFERENCE_PACKAGE:
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, RefuseReferences)

    import rnnlab.checks

    recording: dict[str, object] = {"entries": None, "filename": None}
    recorded_limit, value_limit = 2000, 2_000_000

    def recorder(kind, name, value, options, getframe=sys._getframe, type_of=type):
        """What a test cell recorded, as plain data (``plain``); entries outside a test are dropped."""
        entries = recording["entries"]
        if entries is None or len(entries) >= recorded_limit:
            return
        line, frame, filename = 0, getframe(1), recording["filename"]
        while frame is not None:
            if frame.f_code.co_filename == filename:
                line = frame.f_lineno
                break
            frame = frame.f_back
        entry = {"kind": str(kind), "name": str(name)[:200], "line": int(line or 0)}
        if kind == "value":
            entry["value"] = plain(value, [value_limit])
        entry["options"] = {k: (v if type_of(v) in (int, float, bool, str) or v is None else
                                [str(x)[:200] for x in v][:50]) for k, v in options.items()}
        entries.append(entry)

    import numpy
    import torch

    def plain(value, budget, depth=0, type_of=type, numpy=numpy, torch=torch):
        """``value`` as JSON data: None, bool, int, float, str, lists, dicts with string keys, and
        arrays ``{"array": [...], "shape": [...], "dtype": "..."}`` (tensors and NumPy arrays)."""
        if depth > 8:
            raise ValueError("recorded value nested too deeply")
        kind = type_of(value)
        if value is None or kind in (bool, str):
            return value if kind is not str else value[:100_000]
        if kind is int:
            return value if -2**62 < value < 2**62 else float(value)
        if kind is float:
            return value
        if isinstance(value, numpy.generic) and not isinstance(value, numpy.ndarray):
            return plain(value.item(), budget, depth + 1)
        if isinstance(value, torch.Size):
            return [int(v) for v in value]
        if isinstance(value, (list, tuple)):
            if len(value) > 100_000:
                raise ValueError("recorded list too long")
            return [plain(v, budget, depth + 1) for v in value]
        if kind is dict:
            items = sorted(value.items(), key=lambda kv: str(kv[0]))
            return {"dict": [[str(k), plain(v, budget, depth + 1)] for k, v in items]}
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu()
            dtype = str(tensor.dtype)
            array = tensor.to(torch.float64).numpy() if not tensor.is_complex() else None
        elif isinstance(value, numpy.ndarray):
            dtype, array = str(value.dtype), numpy.asarray(value, dtype=numpy.float64)
        else:
            raise TypeError(f"record() takes numbers, strings, arrays and tensors, not {kind.__name__}")
        if array is None:
            raise TypeError("record() does not take complex values")
        budget[0] -= array.size
        if budget[0] < 0:
            raise ValueError("recorded arrays too large")
        return {"array": [float(x) for x in array.ravel().tolist()], "shape": [int(n) for n in array.shape],
                "dtype": dtype}

    rnnlab.checks._recorder = recorder
    rnnlab.checks._seed_offset = int(plan.get("seed", 0))

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


    def emit(message: dict, fd: int = report_fd) -> None:
        data = (dumps(message, allow_nan=True) + "\n").encode()
        while data:
            data = data[write(fd, data):]

    want_outputs = bool(plan.get("outputs"))
    import base64
    import io

    class PrintedText(io.TextIOBase):
        """sys.stdout during an answer or course cell: keeps the first OUTPUT_CHARS characters."""

        def __init__(self):
            self.parts, self.size = [], 0

        def writable(self):
            return True

        def write(self, text):
            if type(text) is str and self.size < OUTPUT_CHARS:
                self.parts.append(text[: OUTPUT_CHARS - self.size])
                self.size += len(self.parts[-1])
            return len(text) if type(text) is str else 0

    def open_figures(type_of=type, bytes_type=bytes) -> list[str]:
        """PNGs of the figures a cell left open (at most OUTPUT_FIGURES), which are then closed."""
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is None:
            return []
        pngs = []
        try:
            for number in list(pyplot.get_fignums())[:OUTPUT_FIGURES]:
                buffer = io.BytesIO()
                pyplot.figure(number).savefig(buffer, format="png", dpi=OUTPUT_DPI)
                data = buffer.getvalue()
                if type_of(data) is bytes_type and len(data) <= OUTPUT_PNG_BYTES:
                    pngs.append(base64.b64encode(data).decode("ascii"))
            pyplot.close("all")
        except Exception:  # noqa: BLE001 - a figure that cannot be drawn is left out
            pass
        return pngs

    def report_flags(sent=set()) -> None:  # noqa: B006 - remembers what was already reported
        for token in sorted(flags - sent):
            emit({"t": "flag", "name": token if token_ok(token) else "unnamed"})
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
        if len(running_threads()) > threads_at_start or os_threads() > os_threads_allowed:
            flags.add("thread")
        if ipython_hooks() != ipython_at_start:
            flags.add("ipython-hooks")  # they only ever touch answer cells; tests do not go through IPython

    timeout_error = CellTimeout

    def on_alarm(signum, frame):
        raise timeout_error()

    install_handler, unblock = signal.signal, signal.pthread_sigmask
    alarm, unblock_how = signal.SIGALRM, signal.SIG_UNBLOCK
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
        recording["entries"] = None
        started = monotonic()
        printed = PrintedText() if want_outputs and kind != "test" else None
        if printed is not None:
            sys.stdout = printed
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
                # Tests run in their own globals (the notebook's names plus what earlier tests defined)
                # and a fresh copy of the builtins snapshot, so nothing one test leaves behind in
                # its builtins reaches the next; what they record is collected by ``recorder``.
                test_globals = {**namespace, **test_names, "__builtins__": dict(builtins_snapshot)}
                recording["entries"], recording["filename"] = [], f"{CELL_PREFIX}{index}>"
                try:
                    run_code(compile_code(source, f"{CELL_PREFIX}{index}>", "exec"), test_globals)
                finally:
                    test_names.update({k: v for k, v in test_globals.items()
                                       if type_of(k) is str and (k not in namespace or namespace[k] is not v)})
            else:
                run_code(compile_code(source, f"{CELL_PREFIX}{index}>", "exec"), namespace)
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
        if printed is not None:
            parts = printed.parts if type_of(printed.parts) is list else []
            text = "".join(p for p in parts if type_of(p) is str)[:OUTPUT_CHARS]
            figures = open_figures()
            if text or figures:
                emit({"t": "output", "index": index, "text": text, "png": figures}, display_fd)
        for name in step.get("defines", ()):  # functions, classes and imports of the course's own cells
            if name in namespace:
                course_names[name] = namespace[name]
        if status == "fail" and monotonic() - started >= cell_s * 0.999:
            status, error = "timeout", "CellTimeout"  # the submission's own handler swallowed the alarm
        entries, recording["entries"] = recording["entries"], None
        message = {"t": "cell", "index": index, "status": status,
                   "error": error if ERROR_NAME.fullmatch(error) else "Error", "line": line}
        if kind == "test":
            message["records"] = entries or []
        try:
            emit(message)
        except (TypeError, ValueError, RecursionError):
            emit({**message, "status": "fail", "error": "RecordError", "records": []})
        report_flags()
    report_flags()
    emit({"t": "end"})
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # no interpreter shutdown: nothing the submission registered (atexit, __del__) runs after us
