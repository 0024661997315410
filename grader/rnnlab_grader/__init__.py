"""rnnlab_grader: the instructor-only autograder of the rnnlab course (never exported).

One module per concept, by stage (the program that runs *inside* the sandbox is the package
``rnnlab_runner``, beside this one):

Intake: what was handed in
* ``submissions``   - reading an untrusted file within bounds, and the run plan
* ``releases``      - each assignment's student and instructor versions, their points, which one a file is
* ``cells``         - what a cell is (test, answer, course, hidden markers) and its code as the kernel runs it
* ``repair``        - giving a Colab-stripped notebook its nbgrader metadata back
* ``prepare``       - all of the above for one file, in a child process with limits
* ``source_checks`` - NumPy-only and not-the-course-model, decided on the source text
* ``tampering``     - static flags on answer cells that reach into the interpreter

Running: the file's code, isolated
* ``sandbox``       - bubblewrap: what a submission can see, its limits, its end (and Ctrl-C's ``STOP``)
* ``slots``         - the uids that runs at once on one machine take
* ``pipeline``      - one file from start to end, and the solutions' reference runs
* ``workers``       - where files are graded: this machine's threads or a Dask cluster

Judging: where no submission code ever ran
* ``verdicts``      - a run's claim read as plain data and judged against the solution's
* ``results``       - what grading one file decided, as one frozen typed ``FileResult``
* ``store``         - the course's results, which every run adds to (JSON lines, graded copies, a lock)

People: who is credited
* ``roster``        - the class list: the course's CSV, Canvas's and Moodle's exports, Moodle's worksheets
* ``identity``      - typed names and LMS file names matched to the roster, ids that cannot collide
* ``credits``       - confirmed pairs and each student's counted file
* ``similarity``    - answers copied between pairs, for a person to look at
* ``standing``      - each student's row: counted points, hand grades, notes

Publishing: text only at the edges
* ``tables``        - the CSV tables, the one place results become text
* ``lms``           - the Canvas and Moodle import files
* ``gradebook``     - the counted files into formgrader, and its hand grades back
* ``explain``       - why a test failed, in words from the release (pages and formgrader alike)
* ``feedback``      - one HTML page per student and notebook
* ``uploads``       - the pages packed as zips Canvas and Moodle take back
* ``summary``       - the instructor's figure
* ``sanitise``      - student markdown made inert; text made one safe line
* ``templates``     - the HTML pages (Jinja2, autoescaped)

Command line
* ``cli``           - ``rnnlab-grade`` / ``make grade``: options into one frozen ``session.Options``
* ``session``       - one grading run, step by step
"""
__version__ = "0.1.0"
