"""rnnlab_grader: the instructor-only autograder of the rnnlab course (never exported).

Modules, one concept each:

* ``rnnlab_grader.pipeline``    - one file from start to end, and the solutions' reference runs
* ``rnnlab_grader.workers``     - where files are graded: this machine's threads or a Dask cluster
* ``rnnlab_grader.prepare``     - reading and planning a file in a child process with limits
* ``rnnlab_grader.sandbox``     - bubblewrap: what a submission can see, its limits, its end
* ``rnnlab_grader.runner``      - the program that runs *inside* the sandbox (stdlib + IPython)
* ``rnnlab_grader.verdicts``    - a run's claim read as plain data and judged against the solution's
* ``rnnlab_grader.source_checks`` - NumPy-only and not-the-course-model, decided on the source text
* ``rnnlab_grader.tampering``   - static flags on answer cells that reach into the interpreter
* ``rnnlab_grader.submissions`` - reading an untrusted file, finding its release, the run plan
* ``rnnlab_grader.repair``      - giving a Colab-stripped notebook its nbgrader metadata back
* ``rnnlab_grader.cells``       - the nbgrader cell-metadata questions
* ``rnnlab_grader.reports``     - the CSV: safe cells, rows written as they finish, resume
* ``rnnlab_grader.cli``         - ``rnnlab-grade`` / ``make grade``, a thin layer over ``pipeline``
"""
__version__ = "0.1.0"
