"""Comparing a claimed value with the solution's (``verdicts.same``), in the precision the answer used."""
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
