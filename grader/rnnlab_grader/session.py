"""One grading run of ``rnnlab-grade``, step by step (``Session.run``).

1. **people**: the roster (or the gradebook's students, or typed names as they are);
2. **files**: what the submissions folder holds (archives refused with a reason);
3. **references**: each release's solution run once in a sandbox of its own, with a fresh seed;
4. **grade**: every file not yet in the store (``--resume``) or every file, ``--jobs`` at a time or
   on a Dask cluster; each result reaches the store as it finishes;
5. **credit**: which file counts for which student, over the *whole* store;
6. **similarity**, **gradebook**, **tables**, **LMS files**, **feedback**, **summary**: each written
   from the store's results, so grading one notebook at a time accumulates.

A second run on the same store is refused (``store.StoreBusy``). One Ctrl-C ends every sandbox at
once (``sandbox.STOP``), keeps what finished and says how to go on.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from . import credits as credits_module
from . import feedback, identity, late, lms, pipeline, sandbox, standing, submissions, summary, tables, uploads
from . import roster as roster_module
from . import workers as workers_module
from .releases import CourseSettingsError, Release, load_releases, points
from .results import FileResult, other_notebooks
from .sandbox import Limits, SandboxUnavailable
from .sanitise import one_line
from .store import Store, StoreBusy

INTERRUPTED = 130


class Stop(Exception):
    """The run cannot go on; ``str(error)`` says why and what to do (exit status 2)."""


@dataclass(frozen=True)
class Options:
    """Everything the command line chose (``cli.options``)."""

    submissions: Path
    root: Path
    out: Path
    store: Path
    students: Path | None = None
    feedback: Path | None = None
    summary: Path | None = None
    gradebook: Path | None = None
    roster: Path | None = None
    worksheets: tuple[Path, ...] = ()
    canvas: Path | None = None
    moodle: Path | None = None
    similarity: Path | None = None
    uploads: Path | None = None
    final: Path | None = None
    limits: Limits = Limits()
    resume: bool = False
    jobs: int = 1
    threads: int | None = None
    slot: int = 0
    scheduler: str | None = None
    unsafe: bool = False


def say(text: str) -> None:
    print(text, flush=True)


def warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def listed(names: list[str], shown: int = 10, width: int = 100) -> str:
    """Names for the terminal: at most ``shown`` of them, each one line, and how many more."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(one_line(n, width) for n in names[:shown]) + more


class Session:
    """One grading run with its options; ``run`` does the steps in order."""

    def __init__(self, options: Options):
        self.options = options
        self.store = Store(options.store)
        self.people: identity.People | None = None
        self.releases: list[Release] = []
        self.credits: credits_module.Credits | None = None
        self.hand = self.written_max = None
        self.canvas_ids: dict[str, str] = {}
        self.late_rules: dict[str, late.LateRule] = {}

    def run(self) -> int:
        """Grade, then write every output; the exit status (0, 2: cannot go on, 130: interrupted)."""
        sandbox.STOP.clear()
        previous = signal.signal(signal.SIGINT, _interrupt) if _main_thread() else None
        try:
            with self.store.locked():
                self.store.load()
                if self.grade_folder() is None:
                    tables.write_by_file(self.options.out, self.stored_results(), self.assignments())
                    return INTERRUPTED
                self.write_outputs()
                return 0
        except (Stop, StoreBusy) as error:
            warn(str(error))
            return 2
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def stored_results(self) -> list[FileResult]:
        """Every result in the store, late files marked by this course's rules (worked out afresh)."""
        return late.mark(self.store.all(), self.late_rules)

    def assignments(self) -> list[str]:
        return sorted(r.assignment for r in self.releases)

    def grade_folder(self) -> int | None:
        """Steps 1-4; the number of files graded, None when a Ctrl-C stopped grading."""
        self.people = self.read_people()
        self.read_course_settings()
        files = self.find_files()
        box = self.new_sandbox()
        self.releases = load_releases(self.options.root)
        todo = self.to_grade(files)
        jobs = max(1, min(self.options.jobs, len(todo) or 1))
        threads = self.options.threads or max(1, (os.cpu_count() or 1) // jobs)
        try:
            references = self.references(box, todo, jobs, threads)
            return self.grade(todo, self.workers(box, references, jobs, threads))
        except pipeline.ReferenceFailed as error:
            raise Stop(f"Cannot grade: {error}") from None
        except KeyboardInterrupt:
            self.interrupted(todo)
            return None

    def read_people(self) -> identity.People:
        """Step 1: the roster (with Moodle's participant numbers from every grading worksheet the
        course was given, kept in the store), else the gradebook's students, else typed names."""
        options = self.options
        try:
            if options.roster:
                students = roster_module.read_roster(options.roster)
                for sheet in options.worksheets:
                    roster_module.read_roster(sheet)  # a worksheet that cannot be read is refused, never kept
                students, unmatched = roster_module.add_worksheets(students, self.store.worksheets(options.worksheets))
                if unmatched:
                    warn("in the grading worksheets but not on the roster (by email or ID number): "
                         + listed(unmatched))
                return identity.People(students)
            if options.worksheets:
                raise Stop("A Moodle grading worksheet tells students apart only beside a roster: pass ROSTER too "
                           "(the worksheet itself can be the roster)")
            if options.gradebook and options.gradebook.exists():
                url = f"sqlite:///{options.gradebook.resolve()}"
                return identity.People(roster_module.gradebook_roster(url) or None)
            return identity.People(None)
        except roster_module.RosterError as error:
            raise Stop(f"Cannot use the roster: {error}") from None
        except OSError as error:
            raise Stop(f"Cannot keep the grading worksheet in {self.store.folder}: {error}") from None

    def read_course_settings(self) -> None:
        """Each notebook's Canvas assignment id and late rule (``course.toml``), checked before anything runs."""
        course_toml = self.options.root / "course.toml"
        try:
            self.canvas_ids = lms.canvas_ids(course_toml) if self.options.canvas else {}
            self.late_rules = late.read_rules(course_toml)
        except CourseSettingsError as error:
            raise Stop(str(error)) from None

    def find_files(self) -> list[Path]:
        """Step 2: every file under the folder; refuses a folder of archives only, or none."""
        folder = self.options.submissions
        files = pipeline.submitted_files(folder)
        archives = [path for path in files if submissions.is_archive(path)]
        if files and len(archives) == len(files):  # checked before the solutions' reference runs
            raise Stop(f"{folder} holds only archives ({listed([p.name for p in archives], 5, 80)}): unzip the "
                       "LMS's download into the folder and grade again")
        if archives:
            say(f"not unpacked, each gets a row saying so: {listed([p.name for p in archives], 10, 80)}")
        if not files:
            raise Stop(f"No files under {folder}: unpack the LMS's download of submissions there.")
        return files

    def new_sandbox(self) -> sandbox.Sandbox:
        box = pipeline.new_sandbox(self.options.limits, self.options.slot, self.options.unsafe)
        try:
            box.check()  # the solutions' reference runs need it here, on a cluster too
        except SandboxUnavailable as error:
            raise Stop(f"Refusing to run untrusted submissions: {error}") from None
        return box

    def to_grade(self, files: list[Path]) -> list[tuple[Path, str]]:
        """(path, name in the tables) of each file to grade: all, or with ``--resume`` those the
        store does not hold with the same content."""
        todo, graded = [], self.store.graded_files() if self.options.resume else set()
        for path in files:
            name = str(path.relative_to(self.options.submissions))
            if graded and path.is_file() and not path.is_symlink():
                try:
                    if (name, submissions.sha256(path)) in graded:
                        continue
                except (OSError, submissions.Unreadable):
                    pass  # graded again, and refused with its reason
            todo.append((path, name))
        return todo

    def references(self, box: sandbox.Sandbox, todo: list, jobs: int, threads: int):
        """Step 3: the solutions' reference runs. On this machine each runs when the first file of its
        notebook comes (a folder of one notebook runs one solution); a Dask cluster gets them all first."""
        if not todo:
            return {}
        if not self.options.scheduler:
            say("each solution runs once for reference, when the first file of its notebook comes")
            return pipeline.References(self.releases, box, threads)
        say(f"running the {len(self.releases)} solutions once for reference")
        return pipeline.reference_runs(self.releases, box, min(jobs, len(self.releases)), threads)

    def workers(self, box: sandbox.Sandbox, references: dict, jobs: int, threads: int):
        options = self.options
        if options.scheduler:
            return workers_module.DaskWorkers(options.scheduler, self.releases, references, options.limits,
                                              options.unsafe, options.slot, options.threads)
        return workers_module.LocalWorkers(self.releases, references, box, jobs, threads)

    def grade(self, todo: list[tuple[Path, str]], workers) -> int:
        """Step 4: every file to grade, its result kept in the store as it finishes."""
        mode = "WITHOUT a sandbox (--unsafe-no-sandbox)" if self.options.unsafe else "in a bubblewrap sandbox each"
        say(f"grading {len(todo)} files {mode}, {workers.description}")
        try:
            graded = workers_module.grade_all(todo, workers, self.store)
        finally:
            workers.close()
        for result in other_notebooks(graded):
            self.store.add(result)
            warn(f"{one_line(result.path, 100)}: {result.reasons[-1].text}")
        return len(graded)

    def interrupted(self, todo: list) -> None:
        """After a Ctrl-C: say what was kept and how to go on."""
        stored = {r.path for r in self.store.results.values()}
        kept = sum(1 for _, name in todo if name in stored)
        warn(f"\nstopped: {kept} of {len(todo)} files of this run are graded and kept in {self.store.folder}; "
             "grade the rest with the same command and RESUME=1 (--resume)")

    def write_outputs(self) -> None:
        """Steps 5-10 from the whole store."""
        results, assignments = self.stored_results(), self.assignments()
        self.credits = self.credit(results, assignments)
        self.say_people()
        results = self.mark_similar(results)
        self.credits = self.credit(results, assignments)  # with the similarity flags
        tables.write_by_file(self.options.out, results, assignments)
        say(f"wrote {self.options.out} ({len(results)} files in {self.store.folder})")
        self.import_gradebook(assignments)
        rows = self.student_rows(assignments)
        self.write_lms(rows, assignments)
        self.write_feedback()
        self.write_summary(results)

    def credit(self, results: list[FileResult], assignments: list[str]) -> credits_module.Credits:
        """Step 5: which file counts for which student (an on-time file first where the late rule says so)."""
        on_time = frozenset(a for a, rule in self.late_rules.items() if rule.rule == "on-time")
        return credits_module.credit(results, assignments, self.people, on_time)

    def say_people(self) -> None:
        """Step 5: whom the files were credited to."""
        say("students: " + (f"from the roster ({len(self.people.students)})" if self.people.roster else
                            "no roster: typed names are used as they are (pass --roster roster.csv to match them)"))
        if self.credits.unidentified:
            names = [r.path for r, _ in self.credits.unidentified]
            say(f"credited to nobody, {len(names)} files (no name, or one the roster does not know; each has a "
                f"flagged row with the reason): {listed(names)}")

    def mark_similar(self, results: list[FileResult]) -> list[FileResult]:
        """Step 6: the similarity page, and each result marked with the files it is similar to."""
        if not self.options.similarity or not self.releases:
            return results
        from . import similarity

        try:  # a flag for a person: its failure costs the page, never the grades
            found = similarity.find(results, self.store.copy_of, self.releases, self.credits)
            similarity.write_page(self.options.similarity, found)
        except Exception as error:  # noqa: BLE001
            warn(f"could not write {self.options.similarity} ({type(error).__name__}); the grades are unaffected")
            return results
        say(f"wrote {self.options.similarity}: {len(found.matches)} pairs of files from different pairs score "
            f"{similarity.THRESHOLD:g} or more ({found.files} files compared)")
        similar = similarity.similar_files(found)
        return [dataclasses.replace(r, similar=similar.get(r.key, ())) for r in results]

    def import_gradebook(self, assignments: list[str]) -> None:
        """Step 7: the counted files into formgrader's gradebook, and its hand grades back."""
        if not self.options.gradebook:
            return
        from . import gradebook

        url = f"sqlite:///{self.options.gradebook.resolve()}"
        imported = gradebook.import_results(url, self.options.gradebook.resolve().parent, self.credits,
                                            self.releases, self.store.copy_of)
        say(f"imported {imported.submissions} pair submissions into {self.options.gradebook} for formgrader"
            + "".join(f"\n  not imported: {one_line(s, 200)}" for s in imported.skipped))
        self.hand = gradebook.hand_scores(url, self.credits, assignments)
        self.written_max = {r.assignment: points(r.notebook)[1] for r in self.releases}

    def student_rows(self, assignments: list[str]) -> list[standing.StudentRow]:
        """Step 8: one row per student, written to ``--students``."""
        max_points = {r.assignment: r.max_points for r in self.releases}
        penalties = {a: rule.penalty for a, rule in self.late_rules.items() if rule.rule == "penalty"}
        rows = standing.student_rows(self.credits, assignments, max_points, self.hand, self.written_max, penalties)
        if self.options.students:
            tables.write_students(self.options.students, rows, assignments)
            say(f"wrote {self.options.students}")
        return rows

    def write_lms(self, rows: list[standing.StudentRow], assignments: list[str]) -> None:
        """Step 9: the Canvas and Moodle import files (only with a roster), and their final copies."""
        options = self.options
        if not (options.canvas or options.moodle):
            return
        if not self.people.roster:
            warn("not writing the LMS files: an LMS needs the roster's ids (pass --roster roster.csv)")
            return
        possible = {r.assignment: r.max_points + (self.written_max or {}).get(r.assignment, 0) for r in self.releases}
        graded = {r.assignment for r, _ in self.credits.authorships}
        assignments = [a for a in assignments if a in graded]  # a column for an ungraded notebook would be blank
        done = []
        if options.canvas:
            done += lms.write_canvas_each(options.canvas, rows, self.people, assignments, possible, self.canvas_ids)
        if options.moodle:
            done += lms.write_moodle(options.moodle, rows, self.people, assignments)
        for out in done:
            say(f"wrote {out.path} ({out.rows} students)"
                + (f"; left out, with no id that LMS knows: {one_line(', '.join(out.left_out), 400)}"
                   if out.left_out else ""))
        if options.final:
            self.write_final(rows, assignments, possible)

    def write_final(self, rows: list[standing.StudentRow], assignments: list[str], possible: dict) -> None:
        """Step 9b: a notebook's LMS files again under ``--final`` once every counted file's written
        answers are graded (and removed from there while any is not): what is there may be posted."""
        folder = self.options.final
        written_max = {r.assignment: points(r.notebook)[1] for r in self.releases}
        for assignment in assignments:
            left, counted = standing.left_to_grade(self.credits, assignment, self.hand, written_max.get(assignment, 0))
            paths = [folder / f"canvas-{assignment}.csv", folder / f"moodle-{assignment}.csv"]
            if counted and not left:
                folder.mkdir(parents=True, exist_ok=True)
                if self.options.canvas:
                    lms.write_canvas(paths[0], rows, self.people, [assignment], possible, self.canvas_ids)
                if self.options.moodle:
                    lms.write_moodle(folder / "moodle.csv", rows, self.people, [assignment])
                say(f"{assignment}: hand grading complete ({counted} counted files): final LMS files in {folder}")
            elif counted:
                for path in paths:
                    path.unlink(missing_ok=True)
                say(f"{assignment}: written answers of {left} of {counted} counted files still to grade in "
                    f"formgrader: the LMS files are provisional (no final files in {folder} yet)")

    def write_feedback(self) -> None:
        """Step 10a: one page per student and notebook, and the pages packed for each LMS to take back."""
        if not self.options.feedback:
            return
        count = feedback.write_feedback(self.options.feedback, self.credits, self.releases, self.hand)
        say(f"wrote {count} feedback pages under {self.options.feedback}")
        if self.options.uploads:
            for bundle in uploads.write_uploads(self.options.uploads, self.options.feedback, self.credits):
                say(f"wrote {bundle.path} ({len(bundle.entries)} pages for {bundle.lms.capitalize()}'s "
                    + ("Re-Upload Submissions)" if bundle.lms == "canvas" else "feedback files zip upload)"))

    def write_summary(self, results: list[FileResult]) -> None:
        """Step 10b: the instructor's figure (a convenience: its failure costs nothing else)."""
        if not self.options.summary:
            return
        try:
            summary.summary_figure(self.options.summary, results, {r.assignment: r.max_points for r in self.releases})
            say(f"wrote {self.options.summary}")
        except (OSError, ValueError) as error:
            warn(f"could not write {self.options.summary} ({type(error).__name__})")


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _interrupt(signum, frame) -> None:
    """Ctrl-C: every sandbox ends at once (``sandbox.STOP``), then grading stops."""
    sandbox.STOP.set()
    raise KeyboardInterrupt
