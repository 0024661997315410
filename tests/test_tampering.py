"""The static scan of answer cells for reaches into the interpreter (``rnnlab_grader.tampering``):
a hint for a person, never the defence."""
from rnnlab_grader import tampering


def test_tampering_scan_flags_reaches_not_ordinary_torch():
    assert tampering.reaches("model.eval()\nmodel = torch.compile(model)\nfor m in model.modules(): pass") == set()
    assert tampering.reaches("import gc\nx = sys._getframe(1).f_back") == {"gc", "_getframe", "f_back"}
    assert tampering.reaches("getattr(frame, 'f_' + 'back')") == {"getattr(computed name)"}
    assert tampering.reaches("getattr(frame, 'f_back')") == {"f_back"}
    assert tampering.reaches("eval('1')") == {"eval"}


def test_tampering_scan_sees_special_methods():
    assert tampering.reaches("class A:\n    def __eq__(self, other):\n        return True") == {"__eq__"}
    assert tampering.reaches("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()") == set()
