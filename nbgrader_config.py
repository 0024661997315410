"""nbgrader configuration of the rnnlab course (instructor repository)."""
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
    "python": '# YOUR CODE HERE\nraise NotImplementedError("Replace these two lines with your code, then run the cell.")'
}
