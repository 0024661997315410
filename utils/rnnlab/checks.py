"""Helpers for the notebooks' test cells: messages a student can act on, and the values the
autograder compares.

None of these computes an answer to a graded TODO; they compare, call, record and explain.

**How a test is graded.** In a notebook (Colab, Jupyter) a test cell's asserts say what to change,
and ``record`` does nothing. Under the course's autograder the same cell runs twice, in two
separate sandboxes: once after the student's answer cells and once after the solution's. Each run
hands the grader the values its ``record`` calls saw (as plain numbers, strings and arrays), and
the grader, in a process where no submission code runs, compares the two lists entry by entry with
each entry's tolerance. A test scores its points when its cell ran to the end *and* every recorded
value matches the solution's. ``assert_numpy_only``/``assert_not_using`` and ``check_pair`` are
also checked by the grader itself, on the submitted source text.
"""
from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Callable

import numpy as np

PARTNER_SELF = "self"
FLOAT32_RTOL = 1e-4  # the relative tolerance of a value computed in float32 (or lower) somewhere

# Set by the grader's runner, never by a notebook: the function that receives what ``record``,
# ``assert_not_using`` and ``check_pair`` saw, and the offset that makes hidden tests' inputs
# fresh in every grading run.
_recorder = None
_seed_offset = 0


def record(name: str, value, *, rtol: float = 1e-6, atol: float = 0.0, axis: int | None = None,
           rtol32: float = FLOAT32_RTOL, same_type: bool = False):
    """Hand a value this test checks to the autograder; returns ``value`` unchanged.

    Under grading, ``value`` (a number, string, bool, None, a NumPy array or torch tensor, or a
    list/tuple/dict of those) is compared with the value the solution records at the same place:
    numbers and arrays within ``atol + rtol * |reference|`` (arrays by their norm, per slice along
    ``axis`` when given, so tiny early-step gradients count as much as large late ones), with
    ``rtol32`` where either side was computed in float32 or lower; everything else exactly.
    ``same_type``: the kind must match as well (int, float, bool, str, a tensor or a NumPy array),
    for a TODO whose text names it ("return a Python float").
    In a notebook it does nothing: the asserts around it are what tell you what to fix.
    """
    if _recorder is not None:
        _recorder("value", name, value, {"rtol": rtol, "atol": atol, "axis": axis, "rtol32": rtol32,
                                         "same_type": same_type})
    return value


def grading_seed(base: int) -> int:
    """A seed for a hidden test's random inputs: ``base`` in a notebook, ``base`` plus this grading
    run's offset under the autograder (the same in the student's and the solution's run), so
    inputs are fresh every run and a recorded answer cannot be replayed."""
    return int(base) + int(_seed_offset)


def _array(values) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)


def rel_error(ours, reference, axis: int | None = None) -> float:
    """Relative error ``||ours - ref|| / ||ref||`` (Frobenius); with ``axis``, computed along
    that axis for every slice separately and the largest returned.

    Per-slice errors matter for gradients that span many orders of magnitude: a whole-array
    norm is dominated by the largest entries and would not notice wrong early time steps.
    Returns 0.0 when both are zero, ``inf`` when only the reference is.
    """
    a, b = _array(ours), _array(reference)
    if a.shape != b.shape:
        raise AssertionError(f"shape {a.shape} does not match the expected shape {b.shape}")
    if axis is None:
        a, b = a.reshape(1, -1), b.reshape(1, -1)
    else:
        a, b = np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1), np.moveaxis(b, axis, 0).reshape(b.shape[axis], -1)
    diff, scale = np.linalg.norm(a - b, axis=1), np.linalg.norm(b, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        errors = np.where(scale > 0, diff / scale, np.where(diff > 0, np.inf, 0.0))
    return float(np.max(errors))


def compare(name: str, ours, reference, tol: float = 1e-8, axis: int | None = None) -> float:
    """Print how close ``ours`` is to ``reference``: exact, close (within ``tol``) or wrong,
    with the relative error and the largest absolute difference. Returns the relative error."""
    a, b = _array(ours), _array(reference)
    error = rel_error(a, b, axis)
    if np.array_equal(a, b):
        verdict = "exact"
    elif error <= tol:
        verdict = f"close (relative error {error:.1e})"
    else:
        where = np.unravel_index(np.nanargmax(np.abs(a - b)), a.shape) if a.size else ()
        verdict = (f"WRONG (relative error {error:.1e} > {tol:.0e}; largest difference "
                   f"{np.nanmax(np.abs(a - b)):.3e} at index {tuple(int(i) for i in where)})")
    print(f"{name:<24} {verdict}")
    return error


def expect_implemented(fn: Callable, *args, **kwargs):
    """Call ``fn``; turn the stub's ``NotImplementedError`` into a failure that says what to do."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(
            f"{fn.__name__}() is not implemented yet: write it in its TODO cell, run that cell, "
            "then run this test again."
        ) from None


def code_identifiers(source: str) -> set[str]:
    """Every name a piece of code uses: variables, attributes, imported modules (each dotted
    part), function and class names; docstrings, strings and comments are not code and do not
    count. Code that does not parse gives its words outside comments and strings instead."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        text = re.sub(r"#.*", "", source)
        text = re.sub(r"(\"\"\"|\'\'\'|\"|\')(?:\\.|(?!\1).)*?\1", "", text, flags=re.S)
        return set(re.findall(r"[A-Za-z_]\w*", text))
    return tree_identifiers(tree)


def tree_identifiers(tree: ast.AST) -> set[str]:
    """``code_identifiers`` of an already parsed syntax tree (or one node of it)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.update(node.name.split("."))
            if node.asname:
                names.add(node.asname)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(node.module.split("."))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _code_of(obj) -> set[str]:
    """The names the code of a function uses, or for a class the names of its base classes and
    the names its methods use (a notebook's class has no source file that ``inspect`` can read)."""
    if inspect.isclass(obj):
        names = {base.__qualname__ for base in obj.__mro__[1:]}
        for value in vars(obj).values():
            value = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
            if inspect.isfunction(value):
                names |= _code_of(value)
        return names
    return code_identifiers(inspect.getsource(obj))


def assert_not_using(function: Callable, *names: str, hint: str = "") -> None:
    """Fail if the code of ``function`` (a function, or a class: its bases and methods) uses any of
    ``names`` (docstrings, strings and comments aside): a graded answer must be the student's own
    work, not a call to a course helper that does the job. The autograder checks the same on the
    source you hand in (the definition of ``function`` and the helpers it calls)."""
    if _recorder is not None:
        _recorder("source", getattr(function, "__name__", "?"), None, {"forbid": list(names), "hint": hint})
    used = sorted(set(names) & _code_of(function))
    if used:
        raise AssertionError(f"{function.__name__}() uses {' and '.join(used)}: {hint or 'write it yourself.'}")


def assert_numpy_only(*functions: Callable) -> None:
    """Fail if a function's code uses torch or rnnlab: the exercise is to write it in NumPy."""
    for fn in functions:
        assert_not_using(fn, "torch", "rnnlab", hint="write it with NumPy only.")


def pair_problem(your_name, your_partner_name) -> str | None:
    """What is wrong with the pair cell's names (None: nothing): both non-empty strings, the partner
    may be ``"self"`` (working alone), never the same name twice."""
    for label, value in (("your_name", your_name), ("your_partner_name", your_partner_name)):
        if not isinstance(value, str) or not value.strip():
            return (f"Set {label} to a name in quotes, e.g. {label} = \"Ada Lovelace\""
                    + (' (or "self" if you work alone)' if label == "your_partner_name" else ""))
    if your_name.strip().lower() == PARTNER_SELF:
        return 'your_name must be your own name; "self" is only for your_partner_name'
    if your_name.strip().lower() == your_partner_name.strip().lower():
        return 'your_partner_name repeats your_name: write your partner\'s name, or "self"'
    return None


def check_pair(your_name, your_partner_name) -> None:
    """The pair cell: both names non-empty strings; the partner may be ``"self"`` (working alone).
    The autograder checks the names written in quotes in the pair cell the same way."""
    if _recorder is not None:
        _recorder("pair", "pair", None, {})
    problem = pair_problem(your_name, your_partner_name)
    if problem:
        raise AssertionError(problem)


def _cast(value, dtype):
    import copy

    import torch

    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.to(dtype)
    if isinstance(value, torch.nn.Module):
        return copy.deepcopy(value).to(dtype)
    return value


def run_in_float64_or_float32(function: Callable, *args):
    """``(result, dtype)``: ``function(*args)`` with every float tensor and module argument cast to
    float64 (a copy), or, if that raises, to float32. A failure in float32 as well propagates.

    A TODO that does not ask for a dtype must not demand one: ``torch.zeros(B, H)`` (float32 by
    default) is as correct as ``x.new_zeros(B, H)``, but crashes against a float64 model. Tests
    therefore try float64 first (the precision a finite-difference oracle needs) and fall back to
    float32. The result's float tensors (in a tuple, list or dict too) come back in the dtype of
    the run that made them, so a float32 run is compared at the float32 tolerance by ``record``
    even when the answer took its norms in float64 as the TODO recommends.
    """
    import torch

    try:
        return function(*[_cast(a, torch.float64) for a in args]), torch.float64
    except (RuntimeError, TypeError, ValueError):
        return _in_precision(function(*[_cast(a, torch.float32) for a in args]), torch.float32), torch.float32


def _in_precision(value, dtype):
    """``value`` with its float tensors (at any depth of tuples, lists and dicts) cast to ``dtype``."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.to(dtype) if value.is_floating_point() else value
    if isinstance(value, (tuple, list)):
        return type(value)(_in_precision(v, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _in_precision(v, dtype) for k, v in value.items()}
    return value
