"""rnnlab_grader: the instructor-only autograder of the rnnlab course (never exported).

Modules, one concept each:

* ``rnnlab_grader.sandbox``     - bubblewrap: what a submission can see, its limits, its end
* ``rnnlab_grader.runner``      - the program that runs *inside* the sandbox (stdlib + IPython)
* ``rnnlab_grader.verdicts``    - signed per-cell records from the runner, turned into points
* ``rnnlab_grader.tampering``   - static flags on answer cells that reach into the interpreter
* ``rnnlab_grader.submissions`` - reading an untrusted file, finding its release, the run plan
* ``rnnlab_grader.repair``      - giving a Colab-stripped notebook its nbgrader metadata back
* ``rnnlab_grader.reports``     - the CSV: safe cells, rows written as they finish, resume
* ``rnnlab_grader.cli``         - ``rnnlab-grade`` / ``make grade``
"""
__version__ = "0.1.0"
