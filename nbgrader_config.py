"""nbgrader configuration of the rnnlab course (instructor repository)."""
import importlib.util
import os

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "rnnlab"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# nbgrader's own per-cell timeout (it wins over ExecutePreprocessor.timeout). The grade
# profile keeps every cell far below this.
c.Execute.timeout = 120

# Any stderr output scores a test cell 0; PyTorch warns often. Drop warnings from stderr.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(User|Deprecation|Future|Runtime)Warning"

# The stub that replaces every solution region in the student versions.
c.ClearSolutions.code_stub = {
    "python": ('# YOUR CODE HERE\n'
               'raise NotImplementedError("Replace these two lines with your code, then run the cell.")')
}

# Feedback that nbgrader itself writes (`nbgrader generate_feedback`, formgrader's feedback
# buttons) reads autograded/, where the graded copies hold the hidden tests for the instructor:
# clear them first, so no hidden line reaches a student. The graded copies also show, for the
# instructor, what each answer cell printed in the sandboxed run: a submission can print anything
# there (the hidden tests it read from its own process included), so every output is cleared
# too: a student's page shows the grader's own records, never what a submission produced.
from nbconvert.preprocessors import ClearOutputPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

# The output clearing is an instance enabled here, for feedback only: enabled for every exporter
# (c.ClearOutputPreprocessor.enabled), it would clear formgrader's view of the outputs too.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ClearOutputPreprocessor(enabled=True),
                                    CSSHTMLHeaderPreprocessor]


def _refuse_unsandboxed_autograde(**_):
    """Submissions are graded by `make grade`, each in a bubblewrap sandbox; `nbgrader autograde`
    (or formgrader's autograde button) would run student code as you, unsandboxed."""
    if os.environ.get("RNNLAB_ALLOW_NBGRADER_AUTOGRADE") != "1":
        raise RuntimeError("this course grades with `make grade SUBMISSIONS=<folder>` (sandboxed); "
                           "nbgrader autograde would run student code unsandboxed and is turned off")


c.Autograde.pre_convert_hook = _refuse_unsandboxed_autograde

# formgrader shows the maths of written answers with the copy of MathJax that the
# jupyter_server_mathjax extension serves (installed with the grader), so it works offline: the
# grader's templates/nbconvert/formgrade/mathjax.html.j2 is found before nbconvert's macro, which
# loads MathJax from a CDN. nbgrader's own templates (formgrade, feedback) stay where they are.
_grader, _nbgrader = importlib.util.find_spec("rnnlab_grader"), importlib.util.find_spec("nbgrader")  # not imported
if _grader is not None and _nbgrader is not None:
    c.HTMLExporter.extra_template_basedirs = [
        os.path.join(list(_grader.submodule_search_locations)[0], "templates", "nbconvert"),
        os.path.join(list(_nbgrader.submodule_search_locations)[0], "server_extensions", "formgrader", "templates")]
