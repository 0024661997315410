import numpy as np
import pytest
import torch

from rnnlab.checks import assert_not_using, assert_numpy_only, check_pair, compare, expect_implemented, rel_error
from rnnlab.models import RecurrentClassifier


def test_rel_error_per_slice_sees_tiny_rows():
    reference = np.array([[1e-15, 0.0], [1.0, 1.0]])
    wrong_tiny_row = np.array([[2e-15, 0.0], [1.0, 1.0]])
    assert rel_error(wrong_tiny_row, reference) < 1e-14  # the whole-array norm misses it
    assert rel_error(wrong_tiny_row, reference, axis=0) == pytest.approx(1.0)
    assert rel_error(np.zeros(2), np.zeros(2)) == 0.0 and rel_error(np.ones(2), np.zeros(2)) == np.inf
    with pytest.raises(AssertionError, match="shape \\(3,\\) does not match the expected shape \\(2,\\)"):
        rel_error(np.ones(3), np.ones(2))


def test_compare_verdicts(capsys):
    assert compare("same", [1.0, 2.0], [1.0, 2.0]) == 0.0
    compare("near", [1.0, 2.0 + 1e-12], [1.0, 2.0])
    compare("far", [1.0, 3.0], [1.0, 2.0])
    out = capsys.readouterr().out.splitlines()
    assert "exact" in out[0] and "close" in out[1] and "WRONG" in out[2] and "at index (1,)" in out[2]


def stub(x):
    raise NotImplementedError()


def test_expect_implemented_explains_the_stub():
    with pytest.raises(AssertionError, match=r"stub\(\) is not implemented yet: write it in its TODO cell"):
        expect_implemented(stub, 1)
    assert expect_implemented(abs, -2) == 2


def numpy_only(x):
    return np.tanh(x)  # a comment naming torch is fine


def uses_torch(x):
    import torch

    return torch.tanh(x)


def test_assert_numpy_only():
    assert_numpy_only(numpy_only)
    with pytest.raises(AssertionError, match="uses_torch\\(\\) uses torch: write it with NumPy only"):
        assert_numpy_only(numpy_only, uses_torch)


@pytest.mark.parametrize("me,partner,match", [
    ("", "Bo", "Set your_name"), ("Al", None, "Set your_partner_name"), ("self", "Bo", "your own name"),
    ("Al", " al ", "repeats your_name")])
def test_check_pair_errors(me, partner, match):
    with pytest.raises(AssertionError, match=match):
        check_pair(me, partner)


def test_check_pair_accepts_pairs_and_self():
    check_pair("Ada", "Grace")
    check_pair("Ada", "self")


def calls_the_reference(model):
    from rnnlab import probes

    return probes.fit_decay(model)


def test_assert_not_using():
    assert_not_using(numpy_only, "probes")
    with pytest.raises(AssertionError, match="calls_the_reference\\(\\) uses probes: unroll it yourself"):
        assert_not_using(calls_the_reference, "probes", hint="unroll it yourself")


class BuiltOnTheCourseModel(RecurrentClassifier):
    pass


class WrittenByHand(torch.nn.Module):
    def forward(self, x):
        return x * 2


def test_assert_not_using_reads_classes():
    """A notebook's class has no source file: its bases and methods are read instead."""
    assert_not_using(WrittenByHand, "RecurrentClassifier")
    with pytest.raises(AssertionError, match="BuiltOnTheCourseModel\\(\\) uses RecurrentClassifier"):
        assert_not_using(BuiltOnTheCourseModel, "RecurrentClassifier")


def test_a_float32_run_comes_back_in_float32_whatever_the_answer_returns():
    """An answer that starts from torch.zeros (float32) crashes against the float64 copy; its
    float32 run's norms, taken in float64 as the TODO recommends, come back as float32, so the
    grader compares them at the float32 tolerance."""
    import torch

    from rnnlab.checks import run_in_float64_or_float32

    def answer(weight):
        h = torch.zeros(2)  # float32, as torch.zeros makes it
        out = (h + weight @ torch.ones(2, dtype=weight.dtype)) if weight.dtype == torch.float32 else weight @ h
        return out.double().norm().reshape(1), {"states": [out.double()]}

    (norm, extra), dtype = run_in_float64_or_float32(answer, torch.eye(2))
    assert dtype == torch.float32 and norm.dtype == torch.float32 and extra["states"][0].dtype == torch.float32

    def float64_answer(weight):
        return (weight @ weight.new_ones(2)).norm()

    result, dtype = run_in_float64_or_float32(float64_answer, torch.eye(2))
    assert dtype == result.dtype == torch.float64
