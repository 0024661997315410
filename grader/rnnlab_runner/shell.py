"""The notebook's interpreter, set up before any submission code: the modules the tests lean on
imported, the names the course's imports bind, an IPython shell for answer cells, the references
refused, and what the threads and IPython's hooks looked like at the start (``Interpreter``)."""
from __future__ import annotations

import importlib
import os
import sys
import threading

from rnnlab_runner.protocol import REFERENCE_PACKAGE

PREIMPORTS = ("numpy", "torch", "matplotlib", "matplotlib.pyplot", "tqdm", "tqdm.auto")
HOOK_TRAITS = ("custom_exceptions", "ast_transformers", "input_transformers_post", "input_transformers_cleanup")


def preimport(modules: list[str]) -> None:
    """Import what the notebook's tests lean on (a module it does not need here may fail)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in (*PREIMPORTS, *modules):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module the notebook does not need here
            pass
    try:
        import tqdm

        tqdm.tqdm.monitor_interval = 0  # no monitor thread: threads left running are a tampering signal
    except Exception:  # noqa: BLE001
        pass


def trusted_names(imports: list) -> dict[str, object]:
    """What each of the course's imports binds (``[name, module, attribute]``), as imported now."""
    names = {}
    for name, module, attribute in imports:
        try:
            value = importlib.import_module(module)
            names[name] = getattr(value, attribute) if attribute else value
        except Exception:  # noqa: BLE001 - the notebook would fail on this import too
            pass
    return names


class RefuseReferences:
    """A meta-path finder that keeps an installed copy of the instructor-only references out of the
    run (tests need none: the solution's own run is the reference; the sandbox mounts it empty too)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] == REFERENCE_PACKAGE:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None


def new_shell():
    """An IPython shell without history (no database, no thread); answer cells run through it."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    return InteractiveShell.instance(config=config)


class Interpreter:
    """Threads and IPython's hooks at the start; ``changes()`` names what differs now (``thread``,
    ``ipython-hooks``). Reads only plain dicts and ``/proc``, so no submission code runs here."""

    def __init__(self, shell):
        self.shell, self.shell_class, self.traits = shell, type(shell), shell._trait_values
        for name in HOOK_TRAITS:
            getattr(shell, name)  # traitlets fills _trait_values on first read
        self.running_threads, self.listdir = threading.enumerate, os.listdir  # bound before submission code
        self.threads_at_start = len(self.running_threads())
        self.os_threads_allowed = self.os_threads() + _torch_pool_threads()
        self.hooks_at_start = self.ipython_hooks()

    def os_threads(self) -> int:
        """The process's OS threads (raw ``_thread`` threads too, which ``threading`` never sees)."""
        try:
            return len(self.listdir("/proc/self/task"))
        except OSError:
            return 0

    def ipython_hooks(self, type_of=type, tuple_type=tuple, list_type=list, vars=vars) -> list:
        shell = self.shell
        state = [type_of(shell) is self.shell_class, "showtraceback" in vars(shell), "run_cell" in vars(shell),
                 "run_code" in vars(shell)]
        attributes = vars(shell)
        for name in HOOK_TRAITS:  # traits live in _trait_values, custom_exceptions in the instance dict
            value = self.traits[name] if name in self.traits else attributes.get(name)
            state.append(tuple_type(value) if type_of(value) in (tuple_type, list_type) else id(value))
        return state

    def changes(self) -> set[str]:
        found = set()
        if len(self.running_threads()) > self.threads_at_start or self.os_threads() > self.os_threads_allowed:
            found.add("thread")
        if self.ipython_hooks() != self.hooks_at_start:
            found.add("ipython-hooks")  # they only ever touch answer cells; tests do not go through IPython
        return found


def _torch_pool_threads() -> int:
    """Threads torch starts for its pools on first parallel use: not the submission's."""
    try:
        torch = sys.modules.get("torch") or importlib.import_module("torch")
        return torch.get_num_threads() + torch.get_num_interop_threads()
    except Exception:  # noqa: BLE001
        return 4
