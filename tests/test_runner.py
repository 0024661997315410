"""The runner's modules (``rnnlab_runner``), outside any sandbox: values as plain data, display
capture, the guard, and the whole program on a two-cell plan read back by ``verdicts``."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnlab_runner
from rnnlab_grader import verdicts
from rnnlab_runner import capture, encode, protocol

RUNNER = Path(rnnlab_runner.__file__).parent / "__main__.py"


def test_recorded_values_become_plain_data_within_their_budget():
    plain = encode.make_plain(np, torch)
    value = {"b": torch.tensor([1.5, 2.0], dtype=torch.float32), "a": [np.float64(3.0), 2**70, None, "x"]}
    assert plain(value, [10]) == {"dict": [["a", [3.0, float(2**70), None, "x"]],
                                           ["b", {"array": [1.5, 2.0], "shape": [2], "dtype": "torch.float32"}]]}
    with pytest.raises(ValueError, match="too large"):
        plain(np.zeros(11), [10])
    with pytest.raises(TypeError, match="not object"):
        plain(object(), [10])


def test_the_recorder_keeps_entries_of_a_test_cell_only():
    recording = {"entries": None, "filename": "<rnnlab-cell 3>"}
    recorder = encode.make_recorder(recording, encode.make_plain(np, torch))
    recorder("value", "outside", 1.0, {})
    recording["entries"] = []
    code = compile("recorder('value', 'x' * 300, 2.0, {'rtol': 1e-5})", "<rnnlab-cell 3>", "exec")
    exec(code, {"recorder": recorder})
    (entry,) = recording["entries"]
    assert entry == {"kind": "value", "name": "x" * protocol.MAX_NAME_CHARS, "line": 1, "value": 2.0,
                     "options": {"rtol": 1e-5}}


def test_printed_text_is_bounded():
    printed = capture.PrintedText()
    printed.write("a" * (protocol.OUTPUT_CHARS + 10))
    printed.write("more")
    assert capture.printed_text(printed) == "a" * protocol.OUTPUT_CHARS


GUARD_SCRIPT = textwrap.dedent("""
    import math, sys
    sys.path.insert(0, {folder!r})
    from rnnlab_runner import guards

    class Quiet:
        def changes(self):
            return set()

    flags, namespace = set(), {{"math": math}}
    snapshot = guards.Snapshot()
    rewraps = guards.make_rewraps(snapshot.library_prefixes)
    guard = guards.make_guard(snapshot, flags, rewraps, {{"namespace": namespace, "expected": {{"math": math}},
                              "course": {{}}}}, Quiet())
    original = math.isclose
    math.isclose = lambda *args, **kwargs: True
    namespace["math"] = "rebound"
    guard()
    print(math.isclose is original, namespace["math"] is math, sorted(flags))
""")


def test_the_guard_puts_back_what_a_cell_replaced_and_flags_it():
    script = GUARD_SCRIPT.format(folder=str(RUNNER.parent.parent))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().split(maxsplit=2) == ["True", "True", "['math.isclose', 'rebound:math']"], done.stderr


def test_the_program_reports_what_the_grader_reads(tmp_path):
    plan = {"cells": [{"index": 0, "kind": "student", "source": "def f(x):\n    print('hi')\n    return 2 * x",
                       "defines": []},
                      {"index": 1, "kind": "test", "source": "from rnnlab.checks import record\n"
                                                             "assert record('f(2)', f(2)) == 4", "defines": []}],
            "cell_timeout": 30, "trusted_imports": [], "preimport": [], "seed": 0, "outputs": True}
    report_r, report_w = os.pipe()
    display_r, display_w = os.pipe()
    done = subprocess.run([sys.executable, "-I", str(RUNNER), str(report_w), str(display_w)],
                          input=json.dumps(plan).encode(), pass_fds=(report_w, display_w), capture_output=True,
                          timeout=300)
    os.close(report_w), os.close(display_w)
    with os.fdopen(report_r, "rb") as report, os.fdopen(display_r, "rb") as display:
        run, shown = verdicts.parse(report.read()), verdicts.parse_display(display.read(), {0})
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert run.finished and run.outcome(0).status == "pass" and run.flags == set()
    test = run.outcome(1)
    assert test.status == "pass" and [(e.name, e.value, e.line) for e in test.entries] == [("f(2)", 4, 2)]
    assert shown == {}  # f printed nothing while its cell ran; the test's print is never shown
