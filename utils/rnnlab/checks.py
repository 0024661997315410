"""Helpers for the notebooks' test cells: messages a student can act on.

None of these computes an answer to a graded TODO; they compare, call and explain.
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Callable

import numpy as np

PARTNER_SELF = "self"


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


def _code_of(obj) -> str:
    """The source of a function (comments aside), or for a class the names of its base classes and
    the source of its methods (a notebook's class has no source file that ``inspect`` can read)."""
    if inspect.isclass(obj):
        parts = [base.__qualname__ for base in obj.__mro__[1:]]
        for value in vars(obj).values():
            value = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
            if inspect.isfunction(value):
                parts.append(_code_of(value))
        return "\n".join(parts)
    return "\n".join(line.split("#", 1)[0] for line in inspect.getsource(obj).splitlines())


def assert_not_using(function: Callable, *names: str, hint: str = "") -> None:
    """Fail if the code of ``function`` (a function, or a class: its bases and methods; comments
    aside) mentions any of ``names`` as a word: a graded answer must be the student's own work,
    not a call to a course helper that does the job."""
    body = _code_of(function)
    used = sorted({name for name in names if re.search(rf"\b{re.escape(name)}\b", body)})
    if used:
        raise AssertionError(f"{function.__name__}() uses {' and '.join(used)}: {hint or 'write it yourself.'}")


def assert_numpy_only(*functions: Callable) -> None:
    """Fail if a function's source uses torch or rnnlab: the exercise is to write it in NumPy."""
    for fn in functions:
        assert_not_using(fn, "torch", "rnnlab", hint="write it with NumPy only.")


def check_pair(your_name, your_partner_name) -> None:
    """The pair cell: both names non-empty strings; the partner may be ``"self"`` (working alone)."""
    for label, value in (("your_name", your_name), ("your_partner_name", your_partner_name)):
        if not isinstance(value, str) or not value.strip():
            raise AssertionError(f"Set {label} to a name in quotes, e.g. {label} = \"Ada Lovelace\""
                                 + (' (or "self" if you work alone)' if label == "your_partner_name" else ""))
    if your_name.strip().lower() == PARTNER_SELF:
        raise AssertionError('your_name must be your own name; "self" is only for your_partner_name')
    if your_name.strip().lower() == your_partner_name.strip().lower():
        raise AssertionError('your_partner_name repeats your_name: write your partner\'s name, or "self"')
