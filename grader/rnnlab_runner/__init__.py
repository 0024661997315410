"""The program that runs a notebook *inside* a sandbox and reports, per cell, what happened and
what its tests recorded (instructor-only, never exported; standard library, IPython and the
course's own imports).

    python -I rnnlab_runner/__main__.py REPORT_FD DISPLAY_FD  < plan.json

Modules, all imported and built before the first submission cell runs (the sandbox binds this
folder only):

* ``protocol``  - the plan and report schema and every bound (standard library only; the grader's
  ``verdicts`` imports it too);
* ``encode``    - recorded values as plain JSON data, and the recorder ``rnnlab.checks.record`` calls;
* ``capture``   - what a cell printed and the figures it left open (the display channel);
* ``guards``    - the snapshot of what answer cells may replace, and the guard that puts it back;
* ``audit``     - the audit hook;
* ``shell``     - the notebook's interpreter: pre-imports, IPython, threads at the start;
* ``cells``     - running one planned cell and the loop over the plan;
* ``__main__``  - the program: read the plan, build everything, run the loop, report the end.

The same program runs twice per submission, in two separate sandboxes: once over the student's
cells and once over the solution's (``reference``). **It decides nothing.** Code in an answer
cell owns this whole interpreter (its frames, globals, every object), so whatever this process
says about a student's run is only that run's *claim*: which cells finished, and the values the
test cells handed to ``rnnlab.checks.record`` (converted here to plain JSON data). The grader,
outside every sandbox, compares that claim with the solution's run test by test
(``verdicts.judge``); a forged claim can only describe values the submission did not compute, and
matching the solution's values means computing them. No key, no reference implementation and no
expected value is ever in this process.

What it still does for honest students (and as hints for a person, never as the defence):

* Answer cells (and cells the student added) run through IPython, as in Jupyter. Instructor
  cells (tests, locked course cells) are compiled and executed directly, each in ``try``.
* Before every instructor cell a guard puts back what answer cells may have replaced by accident
  or on purpose: ``sys`` hooks, ``builtins``, the functions and constants of numpy/torch/math/
  rnnlab, ``sys.modules`` and the names the course's imports bind; each test starts from fresh
  globals and a fresh copy of the builtins. What it had to put back is *flagged*.
* An audit hook refuses the common routes to this process's memory (``gc`` walks,
  ``sys._current_frames``, tracing, ``ctypes``, ``/proc/*/mem``) and flags subprocesses, signals,
  sockets. A submission can suppress any of these flags: they are hints only.
* Report lines are JSON, one per cell (``{"t": "cell", ...}``), per flag and at the end. With
  ``"outputs"`` in the plan, what each answer or course cell printed and the figures it left open
  go to a second channel, DISPLAY_FD (``{"t": "output", ...}``: bounded text and PNGs, closed
  after each cell as Jupyter's inline backend does), for the instructor's graded copy only: they
  never share the report's pipe or its bound, and never reach a verdict. Files the notebook
  writes are never read.
"""
