"""Recorded values as plain JSON data (``make_plain``), and the recorder that ``rnnlab.checks.record``
calls in a test cell (``make_recorder``). Both are built before any submission code runs and bind
what they use as default arguments, so patching this module's globals changes nothing."""
from __future__ import annotations

import sys

from rnnlab_runner.protocol import MAX_ENTRIES, MAX_ENTRY_NUMBERS, MAX_NAME_CHARS


def make_plain(numpy, torch):
    """``plain(value, budget)``: ``value`` as JSON data: None, bool, int, float, str, lists, dicts
    with string keys, and arrays ``{"array": [...], "shape": [...], "dtype": "..."}`` (tensors and
    NumPy arrays); ``budget`` is a one-item list of numbers still allowed."""

    def plain(value, budget, depth=0, type_of=type, numpy=numpy, torch=torch):
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
        return _array(value, budget, kind, numpy, torch)

    return plain


def _array(value, budget, kind, numpy, torch):
    """A tensor or NumPy array as float64 values with its dtype, charged to ``budget``."""
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


def make_recorder(recording: dict, plain):
    """The function ``rnnlab.checks`` hands each record to: what a test cell recorded goes to
    ``recording["entries"]`` as plain data, with the line of the test cell (``recording["filename"]``)
    it came from; entries outside a test (``recording["entries"]`` None) are dropped."""

    def recorder(kind, name, value, options, getframe=sys._getframe, type_of=type, limit=MAX_ENTRIES,
                 numbers=MAX_ENTRY_NUMBERS, name_chars=MAX_NAME_CHARS):
        entries = recording["entries"]
        if entries is None or len(entries) >= limit:
            return
        line, frame, filename = 0, getframe(1), recording["filename"]
        while frame is not None:
            if frame.f_code.co_filename == filename:
                line = frame.f_lineno
                break
            frame = frame.f_back
        entry = {"kind": str(kind), "name": str(name)[:name_chars], "line": int(line or 0)}
        if kind == "value":
            entry["value"] = plain(value, [numbers])
        entry["options"] = {k: (v if type_of(v) in (int, float, bool, str) or v is None else
                                [str(x)[:200] for x in v][:50]) for k, v in options.items()}
        entries.append(entry)

    return recorder
