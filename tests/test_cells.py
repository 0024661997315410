"""What a cell is and what its code holds (``rnnlab_grader.cells``)."""
import nbformat

from rnnlab_grader import cells


def test_metadata_questions():
    test = nbformat.v4.new_code_cell("assert f() == 1", metadata={"nbgrader": {"grade": True, "grade_id": "t",
                                                                               "locked": True, "points": 2}})
    answer = nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"solution": True, "grade_id": "a"}})
    plain = nbformat.v4.new_code_cell("x = 2")
    assert (cells.is_test(test), cells.is_answer(test), cells.is_course(test)) == (True, False, True)
    assert (cells.is_test(answer), cells.is_answer(answer), cells.grade_id(answer)) == (False, True, "a")
    assert cells.nbgrader_meta(plain) == {} and cells.grade_id(plain) is None


def test_hidden_markers_come_out_whole_lines_only():
    source = "a = 1\n  ### BEGIN HIDDEN TESTS\nb = 2\n### END HIDDEN TESTS\nprint('### BEGIN HIDDEN TESTS')"
    assert cells.HIDDEN_MARKERS.sub("", source) == "a = 1\nb = 2\nprint('### BEGIN HIDDEN TESTS')"
    assert [bool(cells.MARKER_LINE.match(line)) for line in source.split("\n")] == [False, True, False, True, False]


def test_code_is_read_as_the_kernel_runs_it():
    assert cells.defined_names("%matplotlib inline\ndef f():\n    pass\nx: int = 1\ny = z = 2") == {"f", "x", "y", "z"}
    assert cells.parse_cell("def broken(:") is None and cells.defined_names("def broken(:") == frozenset()
    tree = cells.parse_cell("%timeit f(3)")
    assert cells.magic_call(tree.body[0].value) == ("run_line_magic", "timeit", "f(3)")
