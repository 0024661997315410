"""What a cell is and what its code holds, in one place (as nbgrader's own ``utils.is_grade``).

* a *test*: an autograded test cell (``grade`` without ``solution``), worth ``points``; its
  hidden part lies between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``
  (``HIDDEN_MARKERS``, ``MARKER_LINE``);
* an *answer*: a cell the student writes (``solution``), code or a written answer;
* a *course* cell: locked and not an answer (setup, data, experiments, tests, task text);
* a code cell's *code* as the kernel runs it (``as_python``: IPython's transformer turns magics
  into calls, ``magic_call`` reads them back), its syntax tree (``parse_cell``, the one parse
  every stage reads cells through) and the names it defines (``defined_names``).
"""
from __future__ import annotations

import ast
import functools
import re

HIDDEN_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) HIDDEN TESTS[ \t]*\n?", re.M)
MARKER_LINE = re.compile(r"^[ \t]*### (BEGIN|END) HIDDEN TESTS[ \t]*$")


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata (empty if it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


def is_answer(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_course(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("locked")) and not meta.get("solution")


def grade_id(cell) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


@functools.lru_cache(maxsize=1)
def _ipython_transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def as_python(source: str) -> str:
    """A code cell as the kernel runs it: IPython's own transformer turns magics (``%timeit``,
    ``!ls``, ``%%time``) and help syntax into Python, line numbers kept."""
    if not any(mark in source for mark in "%!?"):
        return source  # nothing IPython would change (the common case, and much faster)
    try:
        return _ipython_transformer().transform_cell(source)
    except Exception:  # noqa: BLE001 - the kernel would fail on it as well; parse it as it is
        return source


# Magics that run their code as Python in the notebook's namespace (``%timeit f(x)``, ``%%time``).
CODE_MAGICS = frozenset({"time", "timeit", "prun", "capture"})


def magic_call(node: ast.AST) -> tuple[str, str, str] | None:
    """``(kind, name, code)`` when ``node`` is a magic as IPython's transformer writes it:
    ``get_ipython().run_line_magic(name, line)`` or ``.run_cell_magic(name, line, body)`` with
    constant arguments (``code`` is the line or the body); None otherwise."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("run_line_magic", "run_cell_magic")
            and isinstance(node.func.value, ast.Call) and isinstance(node.func.value.func, ast.Name)
            and node.func.value.func.id == "get_ipython" and node.args
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)):
        return None
    texts = [a.value for a in node.args]
    return node.func.attr, texts[0], texts[-1]


@functools.lru_cache(maxsize=4096)
def parse_cell(source: str) -> ast.Module | None:
    """The syntax tree of a code cell as the kernel runs it (``as_python``), or None when it does
    not parse (or parsing it runs out of memory or recursion): every stage of the grader reads
    cells through this one parse."""
    try:
        return ast.parse(as_python(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


@functools.lru_cache(maxsize=2048)
def defined_names(source: str) -> frozenset[str]:
    """Top-level functions, classes and assigned names of a code cell (empty if it does not parse)."""
    tree = parse_cell(source)
    if tree is None:
        return frozenset()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return frozenset(names)
