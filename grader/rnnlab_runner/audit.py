"""The audit hook (``sys.addaudithook``): refuses the common routes to this process's memory (``gc``
walks, ``sys._current_frames``, tracing, ``ctypes``, ``/proc/*/mem``), rewriting library functions
and classes from a cell, and compiling code under a library's file name; flags subprocesses,
signals and sockets. Installed after the course's imports and never disarmed. A hint for a
person: a submission can suppress any of these flags, and no verdict depends on them."""
from __future__ import annotations

import os
import sys
import types

from rnnlab_runner.protocol import CELL_PREFIX

DENIED_EVENTS = frozenset({"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
                           "sys.settrace", "sys.setprofile", "sys._getframemodulename"})
FLAGGED_EVENTS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                            "os.forkpty", "os.kill", "os.killpg", "signal.pthread_kill", "sqlite3.connect",
                            "socket.connect", "socket.bind", "sys.addaudithook", "resource.setrlimit",
                            "resource.prlimit", "pty.spawn", "os.symlink", "os.link"})
TRUSTED_CLASS_ROOTS = ("torch", "numpy", "rnnlab", "builtins")
PROCESS_FILES = ("mem", "environ", "syscall", "pagemap")


def is_cell_frame(frame, prefix=CELL_PREFIX) -> bool:
    """Whether ``frame`` runs a notebook cell's code (an instructor cell or one IPython ran)."""
    name = frame.f_code.co_filename
    return name.startswith(prefix) or name.startswith("<ipython-input-") or "/ipykernel_" in name


def make_audit(flags: set, library_prefixes: tuple[str, ...], guarded_module):
    """The hook. Everything it uses is bound here, before any submission code, and it touches
    submission objects only through slots that run no submission code, so patching builtins or
    this module's globals cannot blind it."""

    def audit(event, args, isinstance=isinstance, type_of=type, str_type=str, bytes_type=bytes,
              function=types.FunctionType, module_of_type=type.__dict__["__module__"].__get__,
              fsdecode=os.fsdecode, realpath=os.path.realpath, getframe=sys._getframe, denied=DENIED_EVENTS,
              flagged=FLAGGED_EVENTS, trusted=TRUSTED_CLASS_ROOTS, is_cell_frame=is_cell_frame,
              guarded_module=guarded_module, prefixes=library_prefixes, process_files=PROCESS_FILES):
        if event in denied or event.startswith("ctypes."):
            flags.add(event)
            raise PermissionError(f"{event} is not allowed while grading")
        if event == "open" and args and type_of(args[0]) in (str_type, bytes_type):
            path = fsdecode(args[0])
            for candidate in (path, realpath(path)):
                if candidate.rstrip("/").rsplit("/", 1)[-1] in process_files:
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
            if fsdecode(args[1]).startswith(prefixes) and is_cell_frame(getframe(1)):
                flags.add("code-in-library-name")
                raise PermissionError("compiling code under a library's file name is not allowed while grading")
            return
        if event in flagged:
            flags.add(event)

    return audit
