"""Flag answer cells that reach into the interpreter or the grader, for a person to look at.

A static scan of the code a student wrote (answer cells and cells they added; cells identical
to the release are the course's own). Nothing here changes points: the runner's guard and
audit hook decide what a run can do; this names what a submission *tried*, whatever it scored.

It looks at names, attributes, imported modules and string constants, so ``getattr(x, "f_back")``
is caught as well as ``x.f_back``; code that assembles such names at run time needs ``exec``,
``eval``, ``getattr`` with a computed name, ``__import__`` or ``importlib``, which are flagged
themselves. Common tensor methods that share a name with a builtin (``model.eval()``,
``torch.compile``, ``model.modules()``) are not flagged: only the builtins themselves are.
"""
from __future__ import annotations

import ast
import re

from .cells import CODE_MAGICS, magic_call, parse_cell

# Modules whose import alone is worth a look in these notebooks.
MODULES = {"gc", "ctypes", "inspect", "sqlite3", "subprocess", "multiprocessing", "threading", "_thread",
           "concurrent", "signal", "atexit", "importlib", "builtins", "IPython", "ast", "marshal", "pickle",
           "dill", "socket", "pty", "resource", "code", "codeop", "runpy", "traitlets", "faulthandler",
           "tracemalloc", "weakref", "nbgrader", "nbclient", "jupyter_client", "ipykernel", "_hashlib", "hmac", "mmap",
           "fcntl"}
# Builtins that run, reach or rewrite code by name: flagged when called by their bare name.
BUILTINS = {"exec", "eval", "compile", "globals", "locals", "vars", "setattr", "delattr", "__import__",
            "__builtins__", "get_ipython", "breakpoint"}
# Names that reach the interpreter, the process or the grader, wherever they appear.
REACHES = {"excepthook", "displayhook", "unraisablehook", "breakpointhook", "showtraceback", "custom_exceptions",
           "set_custom_exc", "ast_transformers", "input_transformers_post", "input_transformers_cleanup",
           "_getframe", "currentframe", "f_back", "f_locals", "f_globals", "f_code", "f_builtins", "tb_frame",
           "gi_frame", "cr_frame", "ag_frame", "settrace", "setprofile", "addaudithook", "__dict__", "__class__",
           "__subclasses__", "__bases__", "__mro__", "__code__", "__closure__", "__globals__", "__defaults__",
           "__kwdefaults__", "__getattribute__", "__setattr__", "__reduce__", "__del__", "meta_path", "path_hooks",
           "attrgetter", "methodcaller", "CodeType", "FunctionType", "posix_spawn", "forkpty", "_exit", "getppid",
           "setrlimit", "prlimit", "fork", "execv", "execve", "execvp", "spawnv", "killpg", "dup2", "unshare",
           "setns", "_current_frames", "__eq__", "__ne__", "__bool__", "__float__", "__int__", "__index__",
           "__lt__", "__le__", "__gt__", "__ge__", "__instancecheck__", "__subclasscheck__", "__subclasshook__",
           "__array__", "__array_function__", "__array_ufunc__", "__torch_function__", "__torch_dispatch__",
           "__getattr__", "__set_name__", "__prepare__", "__new__", "__class_getitem__",
           "__contains__", "__hash__", "__abs__", "__sub__", "__rsub__", "__truediv__", "__round__", "gc"}
# module.attribute pairs (the attribute alone is an ordinary word).
QUALIFIED = {("sys", "modules"), ("sys", "audit"), ("sys", "exit"), ("os", "system"), ("os", "popen"),
             ("os", "kill"), ("os", "environ")}


def _module_root(name: str | None) -> str:
    return (name or "").split(".")[0]


# IPython magics students use to time or show their code (``cells.CODE_MAGICS`` and these): the
# code they run is scanned like the cell's own, and the ``get_ipython()`` call IPython's transformer
# writes for them is not flagged.
DISPLAY_MAGICS = {"matplotlib", "config_inline"}
MAGIC_OPTIONS = re.compile(r"^(?:\s*-[A-Za-z](?:\s*\d+)?)*\s*")  # %timeit -n 1 -r 3 ...


def reaches(source: str) -> set[str]:
    """The flagged names, attributes and modules that ``source`` mentions (empty if none)."""
    tree = parse_cell(source)
    if tree is None:
        return {"unparsable-cell"} if source.strip() else set()
    found: set[str] = set()
    allowed: set[int] = set()  # the get_ipython names of the magics above
    for node in ast.walk(tree):
        magic = magic_call(node)
        if magic is not None and magic[1] in CODE_MAGICS | DISPLAY_MAGICS:
            allowed.add(id(node.func.value.func))
            if magic[1] in CODE_MAGICS:
                code = magic[2] if magic[0] == "run_cell_magic" else MAGIC_OPTIONS.sub("", magic[2])
                found |= reaches(code) - {"unparsable-cell"}
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if isinstance(node, ast.Name) and (node.id in BUILTINS or node.id in REACHES):
            found.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in REACHES:
            found.add(node.name)  # def __eq__(...): an object equal to everything passes `==` tests
        elif isinstance(node, ast.Attribute):
            if node.attr in REACHES:
                found.add(node.attr)
            elif isinstance(node.value, ast.Name) and (node.value.id, node.attr) in QUALIFIED:
                found.add(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Import):
            found |= {_module_root(a.name) for a in node.names if _module_root(a.name) in MODULES}
        elif isinstance(node, ast.ImportFrom):
            root = _module_root(node.module)
            if root in MODULES:
                found.add(root)
            found |= {a.name for a in node.names if a.name in REACHES | BUILTINS}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 10_000:
            words = set(node.value.replace(".", " ").replace("'", " ").replace('"', " ").split())
            found |= {w for w in words if w in REACHES or w in {"gc", "ctypes", "subprocess", "sqlite3",
                                                                  "builtins", "__builtins__", "__import__"}}
            if "/proc" in node.value:
                found.add("/proc path")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            found.add("getattr(computed name)")
    return found


def scan(sources: list[str]) -> list[str]:
    """Sorted flags over the student's own cells."""
    found: set[str] = set()
    for source in sources:
        found |= reaches(source)
    return sorted(found)
