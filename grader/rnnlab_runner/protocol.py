"""The runner's protocol: the plan it reads and the report it writes, and every bound on them.
Standard library only: imported by the runner inside the sandbox and by the grader's ``verdicts``.

**Plan** (stdin, one JSON object): ``cells`` (each ``index``, ``kind`` one of ``CELL_KINDS``,
``source``, ``defines``), ``cell_timeout`` (seconds), ``trusted_imports`` (``[name, module,
attribute]``), ``preimport`` (module names), ``seed`` (``rnnlab.checks.grading_seed``'s offset),
``debug`` and ``outputs`` (booleans).

**Report** (REPORT_FD, JSON lines): ``{"t": "cell", "index", "status", "error", "line",
"records"}`` per planned cell (``records`` for tests only: ``{"kind", "name", "line", "value",
"options"}``), ``{"t": "flag", "name"}`` per flag, and ``{"t": "end"}`` when the plan ran to its
end. **Display** (DISPLAY_FD, JSON lines): ``{"t": "output", "index", "text", "png": [...]}``.
"""
from __future__ import annotations

import re

CELL_KINDS = ("student", "instructor", "test")
STATUSES = ("pass", "fail", "timeout")
CELL, FLAG, END, OUTPUT = "cell", "flag", "end", "output"

TOKEN = re.compile(r"[A-Za-z0-9_.:\[\]+-]{1,80}")   # a flag's name
ERROR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,60}")  # an exception class name; anything else is "Error"
OTHER_ERROR = "Error"
NO_ERROR = "-"

MAX_ENTRIES = 2000            # recorded entries in one test cell
MAX_ENTRY_NUMBERS = 2_000_000  # numbers in one recorded value
MAX_REPORT_NUMBERS = 4_000_000  # recorded numbers in one report
MAX_NAME_CHARS = 200          # a recorded entry's name
MAX_LINE = 100_000            # a test cell's line number (above: 0, unknown)
MAX_DEPTH = 10                # nesting of a recorded value as the grader reads it
MAX_LINE_BYTES = 32 * 2**20   # one report line

OUTPUT_CHARS = 20_000         # printed text kept per cell
OUTPUT_FIGURES = 4            # figures kept per cell
OUTPUT_PNG_BYTES = 1_000_000  # one figure's PNG
OUTPUT_DPI = 60
OUTPUT_PNG_CHARS = 4 * (OUTPUT_PNG_BYTES // 3 + 1)  # its base64
MAX_OUTPUT_CHARS = 6 * 2**20  # printed text and base64 figures of one report together

REFERENCE_PACKAGE = "rnnlab_reference"  # instructor-only: never importable in a run
CELL_PREFIX = "<rnnlab-cell "            # file name of an instructor cell's code: "<rnnlab-cell 12>"


def cell_filename(index: int) -> str:
    """The file name an instructor cell is compiled under (tracebacks and recorded lines point at it)."""
    return f"{CELL_PREFIX}{index}>"
