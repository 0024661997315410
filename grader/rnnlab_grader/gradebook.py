"""Autograded results into the instructor's nbgrader gradebook, so formgrader can hand-grade the
written answers (``--gradebook gradebook.db``; ``make grade`` uses the course's own).

Every submission is graded in a sandbox that has no gradebook; its points come from the grader's
verdicts (``verdicts.judge``), recorded in the per-file table. This module copies those results, never a
file the submission wrote, into the course gradebook:

* one gradebook "student" per confirmed pair and notebook (``credits``: ``<id>+<id>`` of roster or
  registry ids; a student without a confirmed partner keeps their own id), so a pair's written
  answers are graded once; its counted file is imported. Entries this grader makes carry
  ``lms_user_id = "rnnlab:pair"`` and names that formgrader's "Last, First" shows as
  "Ada Lovelace, Grace Hopper" (or "Ada Lovelace, working alone");
* ``submitted/<entry>/<assignment>/`` and ``autograded/<entry>/<assignment>/``: the submitted
  cells as graded (nbgrader metadata restored, course cells and tests as released, the file's own
  outputs dropped), with every markdown and raw cell sanitised (``sanitise``), under each code
  cell what it printed and drew *in the sandboxed run* (text and PNG only), and the ``timestamp.txt``
  nbgrader reads (so formgrader counts the submission and its feedback buttons work);
* each autograded test's ``auto_score``. ``manual_score`` and ``extra_credit`` are never written, so
  hand grades survive grading again (``RESUME=1``) and re-releasing (``generate_assignment --force``
  updates the cells of an assignment with submissions and keeps their grades).

``hand_scores`` reads back, per entry and notebook, the autograded points as formgrader left them
(a manual override wins), the hand-graded points so far with how many answers are graded, and
each written answer's points and comment for the feedback pages.
"""
from __future__ import annotations

import base64
import datetime
import io
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import PIL.Image

from rnnlab_runner.protocol import OUTPUT_CHARS, OUTPUT_FIGURES

from .cells import is_course, nbgrader_meta
from .explain import outcomes
from .releases import Release
from .results import FileResult, GradedCopy, TestStatus
from .roster import GRADER_ENTRY
from .sanitise import plain_name, sanitise_notebook

if TYPE_CHECKING:
    from .credits import Credits


@dataclass(frozen=True)
class WrittenGrade:
    """One hand-graded answer as formgrader left it."""

    grade_id: str
    score: float | None         # None until graded
    max_score: float
    comment: str


@dataclass(frozen=True)
class HandScore:
    """One gradebook entry's points on one assignment as formgrader left them: ``tests`` holds
    each autograded test's points (a manual override wins), ``comments`` what the instructor wrote
    on other cells (code answers, tests), by cell name."""

    auto: float                                  # autograded points (a manual override wins)
    answers: tuple[WrittenGrade, ...] = ()       # the written answers
    tests: Mapping[str, float] = field(default_factory=dict)
    comments: tuple[tuple[str, str], ...] = ()

    @property
    def written(self) -> float:
        """Hand-graded points so far."""
        return sum(a.score or 0.0 for a in self.answers)

    @property
    def graded(self) -> int:
        return sum(1 for a in self.answers if a.score is not None)

    @property
    def of(self) -> int:
        return len(self.answers)


@dataclass
class Imported:
    """What ``import_results`` did: pair submissions imported, and why any file was not."""

    submissions: int = 0
    skipped: list[str] = field(default_factory=list)


def _graded_notebook(copy: GradedCopy, release: Release, result: FileResult):
    """The submission as it was graded (``prepare`` restored its nbgrader metadata), with every test
    and course cell as the instructor wrote it (hidden tests included: this copy is the instructor's),
    what its code cells printed and drew in the sandboxed run, and under each test that failed why,
    in the words of the student's feedback page (``explain``)."""
    notebook = nbformat.reads(copy.notebook, as_version=4)
    solution = {nbgrader_meta(c).get("grade_id"): c for c in release.solution.cells}
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        original = solution.get(meta.get("grade_id"))
        if original is not None and is_course(cell):
            cell.source = original.source
    sanitise_notebook(notebook)
    add_outputs(notebook, copy.outputs)
    add_verdicts(notebook, result, release)
    return notebook


def add_verdicts(notebook, result: FileResult, release: Release) -> None:
    """Under each autograded test that did not pass, the grader's verdict as a red (stderr) output:
    formgrader then shows why a test scored 0, as the feedback page says it."""
    failed = {t.grade_id for t in result.tests if t.status is not TestStatus.PASS}
    words = outcomes(result, release)
    for cell in notebook.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if cell.cell_type == "code" and grade_id in failed:
            cell.outputs = [*cell.get("outputs", []),
                            nbformat.v4.new_output("stream", name="stderr", text=f"Autograder: {words[grade_id]}\n")]


def _display_names(credits: Credits, entry: str) -> tuple[str, str]:
    """(first_name, last_name) for an entry this grader makes: formgrader shows "last, first"."""
    names = [plain_name(credits.people.students[i].name) for i in entry.split("+") if i in credits.people.students]
    if len(names) == 2:
        return names[1], names[0]
    return "working alone", names[0] if names else entry


def _timestamp(result: FileResult) -> datetime.datetime:
    """When the file was handed in (its modification time), as nbgrader's naive UTC."""
    seconds = result.submitted_at if result.submitted_at is not None else 0.0
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc).replace(tzinfo=None)


def _png(data: str) -> str | None:
    """A base64 PNG the sandboxed run drew, if it is one (signature, size, decodable by Pillow)."""
    try:
        raw = base64.b64decode(data, validate=True)
        if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
            return None
        with PIL.Image.open(io.BytesIO(raw)) as image:
            if image.width * image.height > 4_000_000:
                return None
            image.verify()
        return data
    except (ValueError, OSError, PIL.Image.DecompressionBombError, SyntaxError):
        return None


def add_outputs(notebook, outputs: dict) -> None:
    """Put what each code cell printed (stdout text) and drew (PNG) in the sandboxed run under it.
    Text and PNGs only: nothing a browser would run (no HTML, no JavaScript, no SVG)."""
    for index, out in outputs.items():
        if not (isinstance(index, int) and isinstance(out, dict)):
            continue
        if not 0 <= index < len(notebook.cells) or notebook.cells[index].cell_type != "code":
            continue
        cell_outputs = []
        text = out.get("text")
        if isinstance(text, str) and text:
            cell_outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text[:OUTPUT_CHARS]))
        for data in (out.get("png") or [])[:OUTPUT_FIGURES]:
            if isinstance(data, str) and (png := _png(data)) is not None:
                cell_outputs.append(nbformat.v4.new_output("display_data", data={"image/png": png}))
        notebook.cells[index].outputs = cell_outputs


def import_results(db_url: str, course_root: Path, credits: Credits, releases: list[Release],
                   copies: Callable[[FileResult], GradedCopy | None]) -> Imported:
    """Put each entry's counted file of each notebook into the gradebook at ``db_url`` (autograded
    scores only) and its sanitised graded copy (``copies``: ``store.Store.copy_of``) under
    ``course_root/submitted`` and ``autograded``."""
    from nbgrader.api import Gradebook

    imported = Imported()
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes inside nbgrader's add_submission
        existing = {s.id for s in gradebook.students}
        for release in releases:
            for entry, result in sorted(credits.counted(release.assignment).items()):
                copy = copies(result)
                if copy is None:
                    imported.skipped.append(f"{result.path}: no graded copy kept; grade it again")
                    continue
                try:
                    notebook = _graded_notebook(copy, release, result)
                except (ValueError, KeyError, TypeError, AttributeError) as error:
                    imported.skipped.append(f"{result.path}: {type(error).__name__}")
                    continue
                try:  # one file's failure here costs that file's import only
                    if entry not in existing:
                        first, last = _display_names(credits, entry)
                        gradebook.update_or_create_student(entry, first_name=first[:120], last_name=last[:120],
                                                           lms_user_id=GRADER_ENTRY)
                        existing.add(entry)
                    missing = _import_one(gradebook, release, entry, result)
                    _write_copies(course_root, entry, release, notebook, _timestamp(result))
                except Exception as error:  # noqa: BLE001
                    gradebook.db.rollback()
                    imported.skipped.append(f"{result.path}: could not be imported ({type(error).__name__})")
                    continue
                if missing:
                    imported.skipped.append(f"{result.path}: tests not in the gradebook ({', '.join(missing)}): "
                                            "run `make release` and grade again")
                imported.submissions += 1
    return imported


def _import_one(gradebook, release: Release, entry: str, result: FileResult) -> list[str]:
    """Record one counted file's autograded scores under ``entry``; the tests the gradebook lacks."""
    from nbgrader.api import MissingEntry

    gradebook.update_or_create_submission(release.assignment, entry, timestamp=_timestamp(result))
    missing = []
    for test in result.tests:
        try:
            grade = gradebook.find_grade(test.grade_id, release.name, release.assignment, entry)
        except MissingEntry:  # a gradebook released from other solutions than this grader's
            missing.append(test.grade_id)
            continue
        grade.auto_score = grade.max_score if test.status is TestStatus.PASS else 0.0
        grade.needs_manual_grade = grade.manual_score is not None  # nbgrader's rule: review an override
    gradebook.db.commit()
    return missing


def _write_copies(course_root: Path, entry: str, release: Release, notebook,
                  stamp: datetime.datetime) -> None:
    """The graded copy where formgrader reads it: ``submitted/`` and ``autograded/``, with nbgrader's timestamp."""
    text = stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    for stage in ("submitted", "autograded"):
        folder = course_root / stage / entry / release.assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / f"{release.name}.ipynb")
        (folder / "timestamp.txt").write_text(text + "\n")


def hand_scores(db_url: str, credits: Credits, assignments: list[str]) -> dict[tuple[str, str], HandScore]:
    """``{(entry, assignment): HandScore}`` from the gradebook: a test's score is its manual override
    when formgrader set one; each written answer with its points (None until graded) and comment."""
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(db_url) as gradebook:
        for assignment in assignments:
            for entry in credits.counted(assignment):
                try:
                    submission = gradebook.find_submission(assignment, entry)
                except MissingEntry:
                    continue
                scores[(entry, assignment)] = _hand_score(submission)
    return scores


def _hand_score(submission) -> HandScore:
    """One submission's points and comments as formgrader holds them."""
    answers, tests, remarks = [], {}, []
    for notebook in submission.notebooks:
        comments = {c.name: (c.manual_comment or "") for c in notebook.comments}
        for grade in notebook.grades:
            if grade.auto_score is not None:
                tests[grade.name] = float(grade.score)
            else:
                answers.append(WrittenGrade(grade.name, None if grade.manual_score is None else grade.score,
                                            grade.max_score, comments.pop(grade.name, "")))
        remarks += [(name, text) for name, text in sorted(comments.items()) if text.strip()]
    return HandScore(sum(tests.values()), tuple(answers), tests, tuple(remarks))
