"""Autograded results into the instructor's nbgrader gradebook, so formgrader can hand-grade the
written answers (``--gradebook gradebook.db``; ``make grade`` uses the course's own).

Every submission is graded in a sandbox that has no gradebook; its points come from the grader's
verdicts (``verdicts.judge``), recorded in the per-file table. This module copies those results, never a
file the submission wrote, into the course gradebook:

* one gradebook "student" per pair and notebook: the pair's names made path-safe and joined by
  ``+`` (``ada_lovelace-1a2b3c4d+grace_hopper-5e6f7a8b``; a student alone keeps one name), so a
  pair's written answers are graded once; of two copies handed in by one pair, the file whose
  points count (``reports.student_choices``) is imported;
* ``autograded/<pair>/<assignment>/<notebook>.ipynb``: the submitted cells as graded (nbgrader
  metadata restored, course cells and tests as released, outputs dropped), which formgrader shows;
* each autograded test's ``auto_score``. ``manual_score`` and ``extra_credit`` are never written, so
  hand grades survive grading again (``RESUME=1``) and re-releasing (``generate_assignment --force``
  updates the cells of an assignment with submissions and keeps their grades).

``hand_scores`` reads back, per pair and notebook, the autograded points as formgrader left them
(a manual override wins) and the hand-graded points, for the final per-student table.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import repair, submissions
from .cells import is_course
from .reports import credited_names, pair_id, parse_tests, student_choices


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
    return notebook


def import_results(db_url: str, course_root: Path, submitted: Path, records: list[dict],
                   releases: list[submissions.Release]) -> Imported:
    """Put each pair's counted file of each notebook into the gradebook at ``db_url`` (autograded
    scores only) and its graded cells under ``course_root/autograded``."""
    from nbgrader.api import Gradebook, MissingEntry

    by_assignment = {r.assignment: r for r in releases}
    chosen: dict[tuple[str, str], dict] = {}
    for _, assignment, record in student_choices(records, list(by_assignment)):
        if (pid := pair_id(record)) is not None:
            chosen.setdefault((pid, assignment), record)
    result = Imported()
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes inside nbgrader's add_submission
        for (pid, assignment), record in sorted(chosen.items()):
            release = by_assignment[assignment]
            path = submitted / record["submission"]
            try:
                if submissions.sha256(path) != record.get("sha256"):
                    result.skipped.append(f"{record['submission']}: changed since it was graded; grade it again")
                    continue
                notebook = _graded_notebook(path, release)
            except (OSError, submissions.Unreadable) as error:
                result.skipped.append(f"{record['submission']}: {type(error).__name__}")
                continue
            try:  # one file's failure here costs that file's import only
                names = [n.strip() for n in credited_names(record)]
                gradebook.update_or_create_student(pid, first_name=" & ".join(names)[:120], last_name="")
                gradebook.update_or_create_submission(assignment, pid)
                missing = []
                for grade_id, status, _, _ in parse_tests(record.get("tests", "")):
                    try:
                        grade = gradebook.find_grade(grade_id, release.name, assignment, pid)
                    except MissingEntry:  # a gradebook released from other solutions than this grader's
                        missing.append(grade_id)
                        continue
                    grade.auto_score = grade.max_score if status == "pass" else 0.0
                    grade.needs_manual_grade = grade.manual_score is not None  # nbgrader's rule: review an override
                gradebook.db.commit()
                if missing:
                    result.skipped.append(f"{record['submission']}: tests not in the gradebook ({', '.join(missing)}): "
                                          "run `make release` and grade again")
                target = course_root / "autograded" / pid / assignment / f"{release.name}.ipynb"
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(notebook, target)
            except Exception as error:  # noqa: BLE001
                gradebook.db.rollback()
                result.skipped.append(f"{record['submission']}: could not be imported ({type(error).__name__})")
                continue
            result.submissions += 1
    return result


def hand_scores(db_url: str, records: list[dict], assignments: list[str]) -> dict[tuple[str, str], tuple[float, float | None]]:
    """``(pair id, assignment) -> (autograded points, hand-graded points or None if not graded yet)``
    from the gradebook: a test's score is its manual override when formgrader set one."""
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(db_url) as gradebook:
        for record in records:
            pid, assignment = pair_id(record), record.get("assignment", "")
            if pid is None or assignment not in assignments or (pid, assignment) in scores:
                continue
            try:
                submission = gradebook.find_submission(assignment, pid)
            except MissingEntry:
                continue
            auto, written, graded = 0.0, 0.0, True
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.auto_score is not None:
                        auto += grade.score
                    elif grade.manual_score is not None:
                        written += grade.score
                    else:
                        graded = False
            scores[(pid, assignment)] = (auto, written if graded else None)
    return scores
