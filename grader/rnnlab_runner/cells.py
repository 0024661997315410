"""Running the plan's cells: answer cells (and cells the student added) through IPython, as in
Jupyter; instructor cells (tests, locked course cells) compiled and executed directly. Each test
starts from the notebook's names plus what earlier tests defined, with a fresh copy of the builtins,
and what it records is collected by the recorder (``encode``). The guard runs after every cell."""
from __future__ import annotations

import signal
import sys
import time
import traceback
import types

from rnnlab_runner import capture
from rnnlab_runner.protocol import CELL, MAX_LINE, NO_ERROR, OTHER_ERROR, OUTPUT, cell_filename


class CellTimeout(BaseException):
    """Raised by SIGALRM when a cell runs past its limit."""


def failing_line(tb, filename: str, type_of=type, traceback_type=types.TracebackType, int_type=int,
                 str_type=str) -> int:
    """The line of the test cell ``filename`` where its exception came from (0: none): the feedback
    shows that line of a *visible* test, read from the release, never a message the submission made.
    Reads only traceback and code objects, so no submission code runs."""
    line, steps = 0, 0
    while type_of(tb) is traceback_type and steps < 100_000:
        name = tb.tb_frame.f_code.co_filename
        if type_of(name) is str_type and name == filename and type_of(tb.tb_lineno) is int_type:
            line = tb.tb_lineno
        tb, steps = tb.tb_next, steps + 1
    return line if 0 <= line < MAX_LINE else 0


def on_alarm(signum, frame):
    raise CellTimeout()


class CellRunner:
    """Runs one planned cell at a time (``run``) and says what happened, as a report line."""

    def __init__(self, plan: dict, shell, guard, recording: dict, builtins_snapshot: dict, emit_display,
                 error_ok):
        self.shell, self.namespace, self.guard, self.recording = shell, shell.user_ns, guard, recording
        self.builtins_snapshot, self.emit_display, self.error_ok = builtins_snapshot, emit_display, error_ok
        self.cell_s, self.debug = float(plan["cell_timeout"]), bool(plan.get("debug"))
        self.outputs = bool(plan.get("outputs"))
        self.course_names: dict[str, object] = {}
        self.test_names: dict[str, object] = {}

    def run(self, step: dict, type_of=type, timeout=CellTimeout, install=signal.signal, unblock=signal.pthread_sigmask,
            alarm=signal.SIGALRM, setitimer=signal.setitimer, timer=signal.ITIMER_REAL, monotonic=time.monotonic,
            exc_info=sys.exc_info, unblock_how=signal.SIG_UNBLOCK) -> dict:
        """Run one cell under its time limit, guard, keep its display, and return its report line.
        What it calls is bound when this module is imported, before any submission code."""
        index, kind = step["index"], step["kind"]
        install(alarm, on_alarm)
        unblock(unblock_how, {alarm})
        status, error, line = "pass", NO_ERROR, 0
        self.recording["entries"] = None
        started = monotonic()
        printed = capture.PrintedText() if self.outputs and kind != "test" else None
        if printed is not None:
            sys.stdout = printed
        try:
            setitimer(timer, self.cell_s)
            status, error = self.execute(index, kind, step["source"])
        except timeout:
            status, error = "timeout", "CellTimeout"
        except BaseException as failure:  # noqa: BLE001 - every way a test can fail is a fail
            status, error = "fail", type_of(failure).__name__
            if kind == "test":
                line = failing_line(exc_info()[2], cell_filename(index))
            if self.debug:
                traceback.print_exc()
        finally:
            setitimer(timer, 0)
        self.guard()  # before any of this runner's own code runs again, and before the next test
        self.after(step, printed)
        if status == "fail" and monotonic() - started >= self.cell_s * 0.999:
            status, error = "timeout", "CellTimeout"  # the submission's own handler swallowed the alarm
        entries, self.recording["entries"] = self.recording["entries"], None
        message = {"t": CELL, "index": index, "status": status,
                   "error": error if self.error_ok(error) else OTHER_ERROR, "line": line}
        if kind == "test":
            message["records"] = entries or []
        return message

    def execute(self, index: int, kind: str, source: str, type_of=type, is_instance=isinstance,
                run_code=exec, compile_code=compile) -> tuple[str, str]:
        """Run the cell's code; (status, error) of an answer cell IPython ran (instructor cells raise)."""
        if kind == "student":
            result = self.shell.run_cell(source, store_history=False, silent=True)
            failure = result.error_in_exec or result.error_before_exec
            if is_instance(failure, CellTimeout):
                return "timeout", "CellTimeout"
            return ("fail", type_of(failure).__name__) if failure is not None else ("pass", NO_ERROR)
        filename = cell_filename(index)
        if kind != "test":
            run_code(compile_code(source, filename, "exec"), self.namespace)
            return "pass", NO_ERROR
        namespace = self.namespace
        test_globals = {**namespace, **self.test_names, "__builtins__": dict(self.builtins_snapshot)}
        self.recording["entries"], self.recording["filename"] = [], filename
        try:
            run_code(compile_code(source, filename, "exec"), test_globals)
        finally:
            self.test_names.update({k: v for k, v in test_globals.items()
                                    if type_of(k) is str and (k not in namespace or namespace[k] is not v)})
        return "pass", NO_ERROR

    def after(self, step: dict, printed) -> None:
        """What the cell printed and drew to the display channel; what a course cell defined kept."""
        if printed is not None:
            text, figures = capture.printed_text(printed), capture.open_figures()
            if text or figures:
                self.emit_display({"t": OUTPUT, "index": step["index"], "text": text, "png": figures})
        for name in step.get("defines", ()):  # functions, classes and imports of the course's own cells
            if name in self.namespace:
                self.course_names[name] = self.namespace[name]
