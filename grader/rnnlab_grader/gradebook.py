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
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import PIL.Image

from . import repair, submissions
from .cells import is_course
from .credits import Credits
from .identity import GRADER_ENTRY
from .reports import HandScore, WrittenGrade, parse_tests
from .runner import OUTPUT_CHARS, OUTPUT_FIGURES
from .sanitise import plain_name, sanitise_notebook


@dataclass
class Imported:
    """What ``import_results`` did: pair submissions imported, and why any file was not."""

    submissions: int = 0
    skipped: list[str] = field(default_factory=list)


def _graded_notebook(path: Path, release: submissions.Release):
    """The submission as it was graded: its cells with nbgrader metadata restored, and every test
    and course cell as the instructor wrote it (hidden tests included: this copy is the instructor's)."""
    notebook = repair.restore(submissions.read_submission(path), release.notebook).notebook
    solution = {repair.nbgrader_meta(c).get("grade_id"): c for c in release.solution.cells}
    for cell in notebook.cells:
        meta = repair.nbgrader_meta(cell)
        original = solution.get(meta.get("grade_id"))
        if original is not None and is_course(cell):
            cell.source = original.source
    sanitise_notebook(notebook)
    return notebook


def _display_names(credits: Credits, entry: str) -> tuple[str, str]:
    """(first_name, last_name) for an entry this grader makes: formgrader shows "last, first"."""
    names = [plain_name(credits.people.students[i].name) for i in entry.split("+") if i in credits.people.students]
    if len(names) == 2:
        return names[1], names[0]
    return "working alone", names[0] if names else entry


def _timestamp(path: Path) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.timezone.utc).replace(tzinfo=None)


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
    for key, out in outputs.items():
        if not (isinstance(key, str) and key.isdigit() and isinstance(out, dict)):
            continue
        index = int(key)
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


def import_results(db_url: str, course_root: Path, located: dict[str, Path], credits: Credits,
                   releases: list[submissions.Release], outputs: Path | None = None) -> Imported:
    """Put each entry's counted file of each notebook into the gradebook at ``db_url`` (autograded
    scores only) and its sanitised graded cells under ``course_root/submitted`` and ``autograded``.
    ``located``: the graded files by SHA-256 (``submissions.files_by_hash``)."""
    from nbgrader.api import Gradebook, MissingEntry

    result = Imported()
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes inside nbgrader's add_submission
        existing = {s.id for s in gradebook.students}
        for release in releases:
            assignment = release.assignment
            for entry, record in sorted(credits.counted(assignment).items()):
                path = located.get(record.get("sha256", ""))
                if path is None:  # no file holds the bytes that were graded
                    result.skipped.append(f"{record['submission']}: changed since it was graded; grade it again")
                    continue
                try:
                    notebook = _graded_notebook(path, release)
                    stamp = _timestamp(path)
                    saved = outputs / f"{record.get('sha256')}.json" if outputs is not None else None
                    if saved is not None and saved.is_file() and saved.stat().st_size < 8 * 2**20:
                        add_outputs(notebook, json.loads(saved.read_text(encoding="utf-8")))
                except (OSError, ValueError, submissions.Unreadable) as error:
                    result.skipped.append(f"{record['submission']}: {type(error).__name__}")
                    continue
                try:  # one file's failure here costs that file's import only
                    if entry not in existing:
                        first, last = _display_names(credits, entry)
                        gradebook.update_or_create_student(entry, first_name=first[:120], last_name=last[:120],
                                                           lms_user_id=GRADER_ENTRY)
                        existing.add(entry)
                    gradebook.update_or_create_submission(assignment, entry, timestamp=stamp)
                    missing = []
                    for grade_id, status, *_ in parse_tests(record.get("tests", "")):
                        try:
                            grade = gradebook.find_grade(grade_id, release.name, assignment, entry)
                        except MissingEntry:  # a gradebook released from other solutions than this grader's
                            missing.append(grade_id)
                            continue
                        grade.auto_score = grade.max_score if status == "pass" else 0.0
                        grade.needs_manual_grade = grade.manual_score is not None  # nbgrader's rule: review an override
                    gradebook.db.commit()
                    if missing:
                        result.skipped.append(f"{record['submission']}: tests not in the gradebook ({', '.join(missing)}): "
                                              "run `make release` and grade again")
                    text = stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
                    for stage in ("submitted", "autograded"):
                        folder = course_root / stage / entry / assignment
                        folder.mkdir(parents=True, exist_ok=True)
                        nbformat.write(notebook, folder / f"{release.name}.ipynb")
                        (folder / "timestamp.txt").write_text(text + "\n")
                except Exception as error:  # noqa: BLE001
                    gradebook.db.rollback()
                    result.skipped.append(f"{record['submission']}: could not be imported ({type(error).__name__})")
                    continue
                result.submissions += 1
    return result


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
                auto, answers = 0.0, []
                for notebook in submission.notebooks:
                    comments = {c.name: (c.manual_comment or "") for c in notebook.comments}
                    for grade in notebook.grades:
                        if grade.auto_score is not None:
                            auto += grade.score
                        else:
                            answers.append(WrittenGrade(grade.name, None if grade.manual_score is None else grade.score,
                                                        grade.max_score, comments.get(grade.name, "")))
                scores[(entry, assignment)] = HandScore(auto, tuple(answers))
    return scores
