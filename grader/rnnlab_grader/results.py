"""What grading one file decided, as one frozen, typed value (``FileResult``) that every later
stage takes: the store keeps it, credits, similarity, the gradebook import, feedback, the summary
and the LMS files read it, and only ``tables`` turns it into text (CSV cells).

Every text in a result is as the grader found or made it (a path as handed in, a name as typed);
nothing here is escaped for a spreadsheet or a page: each output escapes for itself.
"""
from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field


class TestStatus(str, enum.Enum):
    """How one autograded test ended."""

    __test__ = False  # not a pytest class

    PASS = "pass"
    FAIL = "fail"          # its code raised, or a recorded value differs from the solution's
    TIMEOUT = "timeout"    # it ran past the limit for one cell
    NOTRUN = "notrun"      # the notebook stopped before it
    CRASH = "crash"        # the process ended in it; the notebook ran again without it


class ReasonKind(str, enum.Enum):
    """What a reason is about (feedback shows every kind; a flag is not a reason, see ``flags``)."""

    UNGRADABLE = "ungradable"  # the file could not be graded: why
    REPAIRED = "repaired"      # what repair put back (lost metadata, moved cells)
    EDITED = "edited"          # course cells the student edited, run as released
    CELL = "cell"              # one cell's problem (failed, timed out, out of memory, crashed)
    NOTEBOOK = "notebook"      # the whole run (wall limit, the process ended early)
    GRADER = "grader"          # the grader itself failed on this file
    HANDED_IN = "handed-in"    # how the file was handed in (another notebook than its folder's)


@dataclass(frozen=True)
class TestResult:
    """One autograded test of one file. ``error``/``line``: the verdict's error class and the
    failing line of the test cell; ``entry``: the recorded value that differed from the solution's."""

    __test__ = False  # not a pytest class

    grade_id: str
    status: TestStatus
    points: float          # earned
    max_points: float
    error: str = ""
    line: int = 0
    entry: str = ""


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    text: str


@dataclass(frozen=True)
class GradedCopy:
    """The file as it was graded, for formgrader and the similarity report: ``notebook`` is the
    restored notebook as nbformat JSON (made by ``prepare`` under its limits; the file's own outputs
    dropped), ``outputs`` what each code cell printed and drew in the sandboxed run (cell index ->
    ``{"text": str, "png": [base64, ...]}``)."""

    notebook: str
    outputs: Mapping[int, Mapping] = field(default_factory=dict)


@dataclass(frozen=True)
class SimilarFile:
    """Another file whose answers overlap this one's (``similarity``): a flag, never points."""

    path: str
    score: float


@dataclass(frozen=True)
class FileResult:
    """Everything grading one file decided. ``path``: the file's name relative to the submissions
    folder, exactly as handed in; ``finished``: its notebook ran to the end; ``flags``: reasons
    for a person to look (tampering hints, limits), never shown to the student; ``unwritten``: the
    names whose TODO cells were left as released; ``submitted_at``: the file's modification time
    (seconds since the epoch); ``copy``: what formgrader shows (not kept in the store's lines)."""

    path: str
    sha256: str = ""
    assignment: str = ""
    your_name: str = ""
    your_partner_name: str = ""
    points: float = 0.0
    max_points: float = 0.0
    finished: bool = False
    tests: tuple[TestResult, ...] = ()
    reasons: tuple[Reason, ...] = ()
    flags: tuple[str, ...] = ()
    unwritten: tuple[str, ...] = ()
    submitted_at: float | None = None
    similar: tuple[SimilarFile, ...] = ()
    copy: GradedCopy | None = field(default=None, compare=False, repr=False)

    @property
    def flagged(self) -> bool:
        """Marked for review by the grader (similarity is a separate flag, see ``similar``)."""
        return bool(self.flags)

    @property
    def graded(self) -> bool:
        """Whether the file was identified as a notebook of the course and run."""
        return bool(self.assignment)

    @property
    def key(self) -> tuple[str, str]:
        """What the store keeps one result per: (assignment, path)."""
        return self.assignment, self.path

    def reason_texts(self, *kinds: ReasonKind) -> list[str]:
        return [r.text for r in self.reasons if not kinds or r.kind in kinds]


def ungradable(path: str, why: str, kind: ReasonKind = ReasonKind.UNGRADABLE, **fields) -> FileResult:
    """A result with no points for a file that could not be graded (yet), and why."""
    return FileResult(path, reasons=(Reason(kind, why),), **fields)


def flagged_with(result: FileResult, flag: str, why: str) -> FileResult:
    """``result`` flagged ``flag`` for a person, with ``why`` as a reason about how it was handed in."""
    return dataclasses.replace(result, flags=tuple(sorted({*result.flags, flag})),
                               reasons=(*result.reasons, Reason(ReasonKind.HANDED_IN, why)))


OTHER_NOTEBOOK = "other-notebook"
MOSTLY = 0.75  # a folder is one notebook's when at least this share of its graded files are that notebook
MOSTLY_MIN_FILES = 4


def other_notebooks(results: list[FileResult]) -> list[FileResult]:
    """The files of one folder that are another notebook than nearly all the rest (at least
    ``MOSTLY`` of ``MOSTLY_MIN_FILES`` or more graded files), flagged ``other-notebook`` with a reason:
    a notebook 02 handed in to notebook 01's LMS assignment is graded as 02, and a person should
    know. A folder of several notebooks flags nothing."""
    graded = [r for r in results if r.graded]
    counts: dict[str, int] = {}
    for result in graded:
        counts[result.assignment] = counts.get(result.assignment, 0) + 1
    if len(graded) < MOSTLY_MIN_FILES or not counts:
        return []
    main, most = max(counts.items(), key=lambda item: (item[1], item[0]))
    if most < MOSTLY * len(graded):
        return []
    why = (f"graded as {{}}, but {most} of the {len(graded)} files in this folder are {main}: check it was handed "
           "in to the right assignment")
    return [flagged_with(r, OTHER_NOTEBOOK, why.format(r.assignment))
            for r in graded if r.assignment != main and OTHER_NOTEBOOK not in r.flags]


def to_json(result: FileResult) -> str:
    """One line of the store: the result without its graded copy and without similarity (both
    are kept or recomputed elsewhere)."""
    data = dataclasses.asdict(dataclasses.replace(result, copy=None, similar=()))
    del data["copy"], data["similar"]
    return json.dumps(data, sort_keys=True)


def from_json(text: str) -> FileResult:
    """The result of one store line (raises ``ValueError``/``KeyError``/``TypeError`` on a bad one)."""
    data = json.loads(text)
    data["tests"] = tuple(TestResult(**{**t, "status": TestStatus(t["status"])}) for t in data["tests"])
    data["reasons"] = tuple(Reason(ReasonKind(r["kind"]), r["text"]) for r in data["reasons"])
    for name in ("flags", "unwritten"):
        data[name] = tuple(data[name])
    return FileResult(**data)


def reason_line(result: FileResult) -> str:
    """The result's reasons in one line of words, a flag first ("FLAGGED for review: ..."), as the
    tables and the per-student notes show them."""
    flag = [f"FLAGGED for review: {', '.join(result.flags)}"] if result.flags else []
    return "; ".join(flag + [r.text for r in result.reasons])
