"""What answer cells may replace, by accident or on purpose, and the guard that puts it back before
every instructor cell: ``sys`` hooks, ``builtins``, the functions and constants of numpy/torch/math/
rnnlab, ``sys.modules``, the import hooks and the names the course's imports bind. What it had to
put back is *flagged* (a hint for a person; the verdict never depends on it).

Everything here is built before any submission code runs: the snapshot (``take_snapshot``), the
guarded module class (``make_guarded_module``) and the guard (``make_guard``) bind what they use,
compare by identity and write through plain dicts and attributes, so no submission-defined method
(``__eq__``, ``__hash__``, a list subclass) runs in them.
"""
from __future__ import annotations

import builtins
import os
import sys
import types

WATCHED_MODULES_EXACT = {"numpy", "numpy.testing", "numpy.linalg", "numpy.random", "torch", "torch.nn",
                         "torch.nn.functional", "torch.testing", "torch.linalg", "torch.autograd", "math",
                         "re", "json", "random"}
TRANSIENT_BUILTINS = frozenset({"_", "__", "___", "exit", "quit", "get_ipython", "display"})
SYS_HOOKS = ("excepthook", "displayhook", "breakpointhook", "unraisablehook")


class Snapshot:
    """What the interpreter looked like before the first submission cell."""

    def __init__(self):
        self.hooks = {name: getattr(sys, name) for name in SYS_HOOKS}
        self.builtins = dict(vars(builtins))
        self.watched = {name: module for name, module in sys.modules.items() if module is not None
                        and (name in WATCHED_MODULES_EXACT or name.split(".")[0] == "rnnlab")}
        self.watched["builtins"] = builtins
        self.attributes = {name: _public(module) for name, module in self.watched.items()}
        self.by_module_name = {module.__name__: self.attributes[name] for name, module in self.watched.items()}
        self.meta_path, self.path_hooks, self.modules = list(sys.meta_path), list(sys.path_hooks), sys.modules
        self.library_prefixes = tuple({os.path.dirname(os.path.dirname(m.__file__)) + os.sep
                                       for m in self.watched.values()
                                       if getattr(m, "__file__", None) and "site-packages" in m.__file__})
        self.stdout, self.stderr = sys.stdout, sys.stderr


def _public(module) -> dict:
    """A module's functions, classes, submodules and constants (its dunders aside)."""
    return {k: v for k, v in vars(module).items() if not (k.startswith("__") and k.endswith("__"))}


def flag_name(module: str, attribute: str) -> str:
    return f"{module}.{attribute}" if len(module) + len(attribute) < 70 else "library-function"


def make_rewraps(library_prefixes: tuple[str, ...]):
    """``rewraps(new, old)``: whether ``new`` is ``old`` wrapped only by library code (torch wraps
    some of its own functions on first use); a wrapper written in a cell, or anything but a plain
    function, is not. Only plain functions are looked into, so no submission-defined attribute code runs."""

    def rewraps(new, old, function=types.FunctionType, type_of=type, str_type=str, prefixes=library_prefixes):
        for _ in range(8):
            if new is old:
                return True
            if type_of(new) is not function:
                return False
            filename = new.__code__.co_filename
            if type_of(filename) is not str_type or not filename.startswith(prefixes):
                return False
            new = new.__dict__.get("__wrapped__")
        return False

    return rewraps


def make_guarded_module(flags: set, snapshot: Snapshot, rewraps):
    """The class every watched module is given: while submission code runs, a library function cannot
    be replaced (``math.isclose = ...`` inside an answer that a test calls would otherwise stay in
    force for the rest of the test)."""
    snapshot_of = snapshot.by_module_name

    class GuardedModule(types.ModuleType):
        def __setattr__(self, name, value):
            original = snapshot_of.get(self.__name__, {}).get(name, value) if type(name) is str else value
            if original is not value and not rewraps(value, original):
                flags.add(flag_name(self.__name__, name))
                raise PermissionError(f"replacing {self.__name__}.{name} is not allowed while grading")
            super().__setattr__(name, value)

        def __delattr__(self, name):
            if type(name) is str and name in snapshot_of.get(self.__name__, {}):
                flags.add(flag_name(self.__name__, name))
                raise PermissionError(f"deleting {self.__name__}.{name} is not allowed while grading")
            super().__delattr__(name)

    return GuardedModule


def arm(snapshot: Snapshot, guarded_module) -> None:
    """Give every watched module the guarded class (from here on, never disarmed)."""
    for module in snapshot.watched.values():
        if type(module) is types.ModuleType:
            try:
                module.__class__ = guarded_module
            except TypeError:
                pass


def make_guard(snapshot: Snapshot, flags: set, rewraps, names: dict, interpreter):
    """``guard()``: put back what submission code may have replaced and flag what had changed.
    ``names``: the notebook's namespace (``"namespace"``) and the names it must hold
    (``"expected"``: the course's imports, ``"course"``: what course cells defined);
    ``interpreter``: ``shell.Interpreter`` (threads and IPython hooks at the start)."""
    restore_sys = _make_restore_sys(snapshot, flags)
    restore_builtins = _make_restore_builtins(snapshot, flags)
    restore_modules = _make_restore_modules(snapshot, flags, rewraps)

    def guard(namespace=names["namespace"], expected=names["expected"], course=names["course"]) -> None:
        restore_sys()
        restore_builtins()
        restore_modules()
        for name, value in [*expected.items(), *course.items()]:
            if name in namespace and namespace[name] is not value:
                flags.add(f"rebound:{name}")
            namespace[name] = value
        if namespace.get("__builtins__") is not builtins:
            if "__builtins__" in namespace:
                flags.add("builtins")
            namespace["__builtins__"] = builtins
        sys.stdout, sys.stderr = snapshot.stdout, snapshot.stderr
        flags.update(interpreter.changes())

    return guard


def _make_restore_sys(snapshot: Snapshot, flags: set):
    def restore_sys(type_of=type, list_type=list, getattr=getattr, setattr=setattr, len=len, any=any, zip=zip):
        for name, hook in snapshot.hooks.items():
            if getattr(sys, name) is not hook:
                setattr(sys, name, hook)
                flags.add(f"sys.{name}")
        if sys.modules is not snapshot.modules:
            sys.modules = snapshot.modules
            flags.add("sys.modules")
        for attribute, original in (("meta_path", snapshot.meta_path), ("path_hooks", snapshot.path_hooks)):
            current = getattr(sys, attribute)
            if (type_of(current) is not list_type or len(current) != len(original)
                    or any(a is not b for a, b in zip(current, original))):
                setattr(sys, attribute, list_type(original))
                flags.add("import-hooks")

    return restore_sys


def _make_restore_builtins(snapshot: Snapshot, flags: set):
    def restore_builtins(type_of=type, str_type=str, list_type=list, vars=vars, saved=snapshot.builtins):
        current = vars(builtins)
        for name in list_type(current):
            if type_of(name) is str_type and name not in saved and name not in TRANSIENT_BUILTINS:
                del current[name]
                flags.add("builtins")
        for name, value in saved.items():
            if current.get(name, None) is not value:
                current[name] = value
                flags.add("builtins")

    return restore_builtins


def _make_restore_modules(snapshot: Snapshot, flags: set, rewraps):
    def restore_modules(vars=vars, modules=snapshot.modules, watched=snapshot.watched, saved=snapshot.attributes):
        for name, module in watched.items():
            if modules.get(name) is not module:
                modules[name] = module
                flags.add(f"sys.modules[{name}]")
            attributes = vars(module)
            for attribute, value in saved[name].items():
                replacement = attributes.get(attribute, None)
                if replacement is not value:
                    attributes[attribute] = value  # always put back; flag unless a library wrapped its own
                    if not rewraps(replacement, value):
                        flags.add(flag_name(name, attribute))

    return restore_modules
