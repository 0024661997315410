"""Comparing a claimed value with the solution's (``verdicts.same``), in the precision the answer used."""
import json

import numpy as np

from rnnlab_grader import verdicts

TINY32 = float(np.finfo(np.float32).tiny)


def array(values, dtype):
    return verdicts.Array(np.asarray(values, dtype=np.float64), dtype)


def test_a_float32_answer_is_compared_in_float32_terms():
    reference = array([[1.0, 2.0], [3e-42, 1e-45], [0.5, 0.25]], "torch.float64")
    underflowed = array([[1.0, 2.0], [0.0, 0.0], [0.5, 0.25]], "torch.float32")
    assert verdicts.same(underflowed, reference, {"rtol": 1e-8, "axis": 0})
    assert verdicts.same(array([[1.00001, 2.0], [0.0, 0.0], [0.5, 0.25]], "torch.float32"), reference, {"rtol": 1e-8})
    assert verdicts.same(0.0, 1e-40, {}) is False  # a Python float is float64: no float32 allowance
    assert verdicts.same(array([0.0], "torch.float32"), 1e-40, {"rtol": 1e-8})


def test_a_wrong_float32_answer_still_fails():
    reference = array([[1.0, 2.0], [3e-30, 1e-31], [0.5, 0.25]], "torch.float64")
    assert not verdicts.same(array([[1.0, 2.0], [0.0, 0.0], [0.5, 0.25]], "torch.float32"), reference,
                             {"rtol": 1e-8, "axis": 0})  # 3e-30 is well inside float32's range
    differs = array([[1.01, 2.0], [3e-30, 1e-31], [0.5, 0.25]], "torch.float32")
    assert not verdicts.same(differs, reference, {"rtol": 1e-8})
    assert not verdicts.same(array([[1.0, 2.0], [TINY32 * 10, 0.0], [0.5, 0.25]], "torch.float64"),
                             array([[1.0, 2.0], [0.0, 0.0], [0.5, 0.25]], "torch.float64"), {"rtol": 1e-8, "axis": 0})


def test_a_float64_answer_keeps_float64_tolerance():
    reference = array([1.0, 2.0], "torch.float64")
    assert not verdicts.same(array([1.00001, 2.0], "torch.float64"), reference, {"rtol": 1e-8})
    assert verdicts.same(array([1.0 + 1e-10, 2.0], "torch.float64"), reference, {"rtol": 1e-8})


def test_a_report_is_read_as_plain_data_only():
    """verdicts.parse: JSON lines into exact builtins and float64 arrays; lines outside the schema
    (not JSON, a class of the submission's, a shape that does not fit) are dropped and flagged;
    a cell reported twice fails."""
    from rnnlab_grader import verdicts

    def cell(index, records=(), status="pass"):
        return json.dumps({"t": "cell", "index": index, "status": status, "error": "-", "line": 0,
                           "records": list(records)}).encode() + b"\n"

    array = {"kind": "value", "name": "g", "line": 3, "options": {"rtol": 1e-6},
             "value": {"array": [1.0, 2.0, float("nan")], "shape": [3], "dtype": "torch.float32"}}
    report = verdicts.parse(cell(1, [array]) + b"R 1 3 pass - 000\n" + cell(2, [{**array, "value": {"__class__": "x"}}])
                            + cell(3, [{**array, "value": {"array": [1.0], "shape": [2], "dtype": "x"}}])
                            + cell(4) + cell(4) + b'{"t": "flag", "name": "gc.get_objects"}\n{"t": "end"}\n')
    entry = report.outcome(1).entries[0]
    assert type(entry.value) is verdicts.Array and entry.value.values.dtype == "float64" and entry.line == 3
    assert report.outcome(2) is None and report.outcome(3) is None and report.malformed_lines == 3
    assert report.outcome(4).error == "DuplicateVerdict" and report.finished
    assert report.flags == {"gc.get_objects", "malformed-report-lines", "duplicate-verdicts"}


def test_the_solution_decides_the_tolerance_and_nan_must_match():
    from rnnlab_grader import verdicts

    def array(values, dtype="float64"):
        return verdicts.Array(__import__("numpy").array(values, dtype=float), dtype)

    tight = {"rtol": 1e-8, "rtol32": 1e-4}
    assert verdicts.same(array([1.0, 2.0]), array([1.0, 2.0 + 1e-9]), tight)
    assert not verdicts.same(array([1.0, 2.0 + 1e-5]), array([1.0, 2.0]), tight)
    assert verdicts.same(array([1.0, 2.0 + 1e-5], "torch.float32"), array([1.0, 2.0]), tight)  # float32 work
    assert not verdicts.same(array([1.0, float("nan")]), array([1.0, 2.0]), tight)
    assert verdicts.same(array([1.0, float("nan")]), array([1.0, float("nan")]), tight)
    tiny_rows = {"rtol": 1e-6, "axis": 0}
    assert not verdicts.same(array([[2e-15, 0.0], [1.0, 1.0]]), array([[1e-15, 0.0], [1.0, 1.0]]), tiny_rows)
    assert verdicts.same(4.0, 4, {}) and not verdicts.same(4.0, 4, {"same_type": True})
    assert not verdicts.same(True, 1, {})
    assert verdicts.same({"a": [1, "x"]}, {"a": [1, "x"]}, {})
    assert not verdicts.same({"a": [1, "y"]}, {"a": [1, "x"]}, {})
    expected = verdicts.CellRecord("pass", "-", 0, (verdicts.Entry("value", "x", 2, 1.0, {"rtol": 1e-9}),))
    loose = verdicts.CellRecord("pass", "-", 0, (verdicts.Entry("value", "x", 2, 1.1, {"rtol": 1.0}),))
    context = verdicts.Context({}, ("Ada", "self"))
    assert verdicts.judge(loose, expected, context).error == "ValueMismatch"  # the student's tolerance is ignored
    assert verdicts.judge(verdicts.CellRecord("pass", "-", 0, ()), expected, context).error == "ValueMissing"
