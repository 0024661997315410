"""Source checks follow only what a definition reads from outside itself, on cells read the way
the kernel runs them (``source_checks``, ``cells.parse_cell``)."""
from rnnlab_grader.cells import parse_cell
from rnnlab_grader.source_checks import definitions, forbidden_names

CLIP_WITH_LOOP_VARIABLE = '''import numpy as np
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(float(np.sum(grad ** 2)) for grad in grads.values()))
    scale = min(1.0, max_norm / (total + 1e-6))
    for name, grad in grads.items():
        grads[name] = grad * scale
    return grads'''
LATER_IMPORT = "from torch.autograd import grad\nimport torch"


def test_a_local_name_is_not_followed_to_a_student_binding_of_the_same_name():
    index = definitions([CLIP_WITH_LOOP_VARIABLE, LATER_IMPORT])
    assert forbidden_names(index, "clip_by_global_norm", ["torch"]) == []


def test_a_global_name_is_followed_wherever_it_is_read():
    reads_global = "def clip(grads, m):\n    return grad(grads, m)"
    in_default = "def clip(grads, m, f=grad):\n    return f(grads, m)"
    in_decorator = "@grad\ndef clip(grads, m):\n    return grads"
    in_closure = "def clip(grads, m):\n    def inner():\n        return grad(grads)\n    return inner()"
    declared = "def clip(grads, m):\n    global grad\n    return grad"
    in_class = "class Clip:\n    step = grad\n    def __call__(self, g):\n        return g"
    for source in (reads_global, in_default, in_decorator, in_closure, declared, in_class):
        index = definitions([source, LATER_IMPORT])
        name = "Clip" if source.startswith("class") else "clip"
        assert forbidden_names(index, name, ["torch"]) == ["torch"], source


def test_a_closure_variable_of_the_enclosing_function_is_its_own():
    source = "def clip(grads, m):\n    grad = 2\n    def inner():\n        return grad\n    return inner()"
    assert forbidden_names(definitions([source, LATER_IMPORT]), "clip", ["torch"]) == []


def test_cells_with_magics_parse_as_the_kernel_runs_them():
    cell = "def rnn_forward(x):\n    return x\n%timeit rnn_forward(3)\n!echo done"
    assert parse_cell(cell) is not None
    index = definitions([cell])
    assert "rnn_forward" in index and forbidden_names(index, "rnn_forward", ["torch"]) == []
    timed = "%%time\ndef f(x):\n    return torch.tanh(x)"
    assert parse_cell(timed) is not None and forbidden_names(definitions([timed]), "f", ["torch"]) == ["torch"]


def test_timing_magics_are_not_flagged_but_what_they_run_is():
    from rnnlab_grader.tampering import reaches

    assert reaches("def f(x):\n    return x\n%timeit -n 1 -r 1 f(3)") == set()
    assert reaches("%%time\ny = f(2)") == set() and reaches("%matplotlib inline") == set()
    assert reaches("%timeit -n1 exec('x = 1')") == {"exec"} and reaches("%%time\nimport gc") == {"gc"}
    assert reaches("%load_ext something") == {"get_ipython"} and reaches("!ls /") == {"get_ipython"}


def test_source_checks_read_code_not_text():
    """The NumPy-only and not-the-course-model checks, on the submitted source: docstrings and
    comments do not count; helpers, aliases and imports the student's cells define do."""
    from rnnlab_grader.source_checks import definitions, forbidden_names

    cells = ['def clip(g, m):\n    """Like torch.nn.utils.clip_grad_norm_."""\n    return helper(g)  # not torch',
             "import torch as T\ndef helper(g):\n    return T.tensor(g)",
             "def clean(x):\n    return x", "Base = models.RecurrentClassifier\nclass Mine(Base):\n    pass"]
    index = definitions(cells)
    assert forbidden_names(index, "clip", ["torch"]) == ["torch"]
    assert forbidden_names(index, "clean", ["torch"]) == []
    assert forbidden_names(index, "Mine", ["RecurrentClassifier"]) == ["RecurrentClassifier"]
    assert forbidden_names(index, "missing", ["torch"]) is None
    assert forbidden_names(definitions(['def f(x):\n    "uses torch"\n    return x']), "f", ["torch"]) == []
