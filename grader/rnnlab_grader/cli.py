"""``rnnlab-grade`` (``make grade SUBMISSIONS=<folder>``): autograde a folder of submissions into CSVs.

A thin layer over ``pipeline`` (what happens to one file) and ``workers`` (where files are
graded): first each release's solution runs once in a sandbox of its own (the reference every
submission is compared with, with a fresh seed per run), then files are graded ``--jobs`` at a
time (default: one per core), each in its own sandbox with its share of the cores' threads, or on
a Dask cluster (``--scheduler``). One table has a row per file, ``--students`` one per student;
``--feedback``, ``--summary`` and ``--gradebook`` write the students' pages, the instructor's
figure and the formgrader import. ``--roster`` names the students (``identity``): typed names are
matched to it, LMS file names identify submitters, and ``--canvas``/``--moodle`` write grade files
those LMSs import; pairs count when both partners confirm them (``credits``).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import credits as credits_module, feedback, identity, lms, pipeline, reports, submissions, summary, \
    workers as workers_module
from .sandbox import Limits, SandboxUnavailable


def check_folders(submitted: Path, root: Path) -> str | None:
    """What is wrong with the submissions folder or the course root, in words that say what to
    do; None when both are usable. Checked before anything else runs."""
    if not submitted.exists():
        return (f"The submissions folder {submitted} does not exist: pass the folder the LMS's download was "
                "unpacked into (make grade SUBMISSIONS=<folder>).")
    if not submitted.is_dir():
        return (f"{submitted} is a file, not a folder: put the submitted files in a folder and pass the folder "
                "(make grade SUBMISSIONS=<folder>).")
    if not (root / "solutions").is_dir():
        return (f"{root} is not the course root (no solutions/ there): run make grade from the course's folder "
                "(the one with nbgrader_config.py), or pass --root <course folder>.")
    if not (root / "notebooks").is_dir():
        return f"No notebooks/ in {root}: run `make release` first."
    return None

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnnlab-grade", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("submissions", type=Path, help="folder of submitted files (searched recursively)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root (notebooks/, solutions/)")
    parser.add_argument("--out", type=Path, default=Path("grades-by-file.csv"), help="the table of one row per file")
    parser.add_argument("--students", type=Path, default=None,
                        help="also write one row per student here (both partners credited; written at the end)")
    parser.add_argument("--feedback", type=Path, default=None,
                        help="write one HTML page per student and notebook here (no hidden-test code)")
    parser.add_argument("--summary", type=Path, default=None,
                        help="save the instructor's summary figure here (points per notebook, most failed tests)")
    parser.add_argument("--gradebook", type=Path, default=None,
                        help="the course's nbgrader gradebook.db: import each pair's autograded results and "
                             "graded cells (autograded/ next to it) for formgrader, and add hand-graded points "
                             "to the --students table; hand grades are never overwritten")
    parser.add_argument("--roster", type=Path, default=None,
                        help="CSV of the class (id, first_name, last_name, email, section, canvas_id, sis_user_id, "
                             "sis_login_id, moodle_id, partner); default: the gradebook's students, if any, else "
                             "typed names are used as they are")
    parser.add_argument("--canvas", type=Path, default=None, help="write a Canvas gradebook-import CSV here (needs a roster)")
    parser.add_argument("--moodle", type=Path, default=None, help="write a Moodle grade-import CSV here (needs a roster)")
    parser.add_argument("--similarity", type=Path, default=None,
                        help="write the page of answers similar between different pairs here (a flag, never points)")
    parser.add_argument("--wall", type=float, default=Limits.wall_s, help="seconds per submission")
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_s, help="seconds per cell")
    parser.add_argument("--memory-gib", type=float, default=Limits.memory_gib)
    parser.add_argument("--processes", type=int, default=Limits.processes, help="processes and threads per sandbox")
    parser.add_argument("--resume", action="store_true", help="keep the CSV's rows and skip files already graded")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once, each in its own sandbox (default: the number of cores)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch/BLAS threads per sandbox (default: cores divided by jobs)")
    parser.add_argument("--slot", type=int, default=0,
                        help="as root, submissions run as uid 62000+SLOT or the next free slot on this machine "
                             "(graders running at once take different slots by themselves)")
    parser.add_argument("--scheduler", default=None,
                        help="grade on the Dask cluster whose scheduler is here (tcp://host:8786) instead of "
                             "this machine's --jobs; every worker needs the course installed and bubblewrap")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run submissions WITHOUT isolation (only if you trust every one of them)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if (problem := check_folders(args.submissions, root)) is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        people = identity.People(identity.read_roster(args.roster) if args.roster else
                                 (identity.gradebook_roster(f"sqlite:///{args.gradebook.resolve()}") or None
                                  if args.gradebook and args.gradebook.exists() else None))
    except identity.RosterError as error:
        print(f"Cannot use the roster: {error}", file=sys.stderr)
        return 2
    files = pipeline.submitted_files(args.submissions)
    archives = [path for path in files if submissions.is_archive(path)]
    if files and len(archives) == len(files):  # checked before the solutions' reference runs
        print(f"{args.submissions} holds only archives ({', '.join(reports.safe_text(p.name, 80) for p in archives[:5])}): "
              "unzip the LMS's download into the folder and grade again", file=sys.stderr)
        return 2
    if archives:
        print(f"not unpacked, each gets a row saying so: {', '.join(reports.safe_text(p.name, 80) for p in archives[:10])}"
              + (f" and {len(archives) - 10} more" if len(archives) > 10 else ""))
    if not files:
        print(f"No files under {args.submissions}: unpack the LMS's download of submissions there.", file=sys.stderr)
        return 2
    limits = Limits(args.wall, args.cell_timeout, args.memory_gib, args.processes)
    sandbox = pipeline.new_sandbox(limits, args.slot, args.unsafe_no_sandbox)
    try:
        sandbox.check()  # the solutions' reference runs need it here, on a cluster too
    except SandboxUnavailable as error:
        print(f"Refusing to run untrusted submissions: {error}", file=sys.stderr)
        return 2
    releases = submissions.load_releases(root)
    outputs = args.out.with_name(args.out.stem + "-outputs")  # the sandboxed runs' text and figures
    grades = reports.GradesFile(args.out, sorted({r.assignment for r in releases}), resume=args.resume, outputs=outputs)
    todo = []
    for path in files:
        name = str(path.relative_to(args.submissions))
        if args.resume and path.is_file() and not path.is_symlink() and grades.done(name, submissions.sha256(path)):
            continue
        todo.append((path, name))
    jobs = max(1, min(args.jobs, len(todo) or 1))
    threads = args.threads or max(1, (os.cpu_count() or 1) // jobs)
    references = {}
    if todo:
        print(f"running the {len(releases)} solutions once for reference", flush=True)
        try:
            references = pipeline.reference_runs(releases, sandbox, min(jobs, len(releases)), threads)
        except pipeline.ReferenceFailed as error:
            print(f"Cannot grade: {error}", file=sys.stderr)
            return 2
    if args.scheduler:
        workers = workers_module.DaskWorkers(args.scheduler, releases, references, limits, args.unsafe_no_sandbox,
                                             args.slot, args.threads)
    else:
        workers = workers_module.LocalWorkers(releases, references, sandbox, jobs, threads)
    mode = "WITHOUT a sandbox (--unsafe-no-sandbox)" if sandbox.unsafe else "in a bubblewrap sandbox each"
    print(f"grading {len(todo)} files {mode}, {workers.description}", flush=True)
    try:
        workers_module.grade_all(todo, workers, grades)
    finally:
        workers.close()
    print(f"wrote {args.out}")
    assignments = grades.assignments
    credits = credits_module.credit(grades.records, assignments, people)
    print("students: " + (f"from the roster ({len(people.students)})" if people.roster else
                          "no roster: typed names are used as they are (pass --roster roster.csv to match them)"))
    if credits.unidentified:
        shown = ", ".join(reports.safe_text(r.get("submission", ""), 100) for r, _ in credits.unidentified[:10])
        more = len(credits.unidentified) - 10
        print(f"credited to nobody, {len(credits.unidentified)} files (no name, or one the roster does not know; "
              f"each has a flagged row with the reason): {shown}" + (f" and {more} more" if more > 0 else ""))
    located = submissions.files_by_hash(files)  # found again by content, whatever a table made of the name
    if args.similarity:
        from . import similarity

        try:  # a flag for a person: its failure costs the page, never the grades
            found = similarity.find(grades.records, located, releases, credits)
            similarity.mark_records(grades.records, found)
            grades.write()
            similarity.write_page(args.similarity, found)
            print(f"wrote {args.similarity}: {len(found.matches)} pairs of files from different pairs score "
                  f"{similarity.THRESHOLD:g} or more ({found.files} files compared)")
        except Exception as error:  # noqa: BLE001
            print(f"could not write {args.similarity} ({type(error).__name__}); the grades are unaffected",
                  file=sys.stderr)
    hand = written_max = None
    if args.gradebook:
        from . import gradebook

        url = f"sqlite:///{args.gradebook.resolve()}"
        imported = gradebook.import_results(url, args.gradebook.resolve().parent, located, credits, releases,
                                            outputs)
        print(f"imported {imported.submissions} pair submissions into {args.gradebook} for formgrader"
              + "".join(f"\n  not imported: {reports.safe_text(s, 200)}" for s in imported.skipped))
        hand = gradebook.hand_scores(url, credits, assignments)
        written_max = {r.assignment: submissions.points(r.notebook)[1] for r in releases}
    max_points = {r.assignment: r.max_points for r in releases}
    rows = reports.student_rows(credits, assignments, max_points, hand, written_max)
    if args.students:
        reports.write_student_table(args.students, rows, assignments)
        print(f"wrote {args.students}")
    possible = {a: max_points.get(a, 0) + (written_max or {}).get(a, 0) for a in assignments}
    if (args.canvas or args.moodle) and not people.roster:
        print("not writing the LMS files: an LMS needs the roster's ids (pass --roster roster.csv)", file=sys.stderr)
    elif args.canvas or args.moodle:
        done = ([lms.write_canvas(args.canvas, rows, people, assignments, possible)] if args.canvas else []) + \
               (lms.write_moodle(args.moodle, rows, people, assignments) if args.moodle else [])
        for out in done:
            print(f"wrote {out.path} ({out.rows} students)"
                  + (f"; left out, with no id that LMS knows: {reports.safe_text(', '.join(out.left_out), 400)}"
                     if out.left_out else ""))
    if args.feedback:
        count = feedback.write_feedback(args.feedback, credits, releases, hand)
        print(f"wrote {count} feedback pages under {args.feedback}")
    if args.summary:
        try:
            summary.summary_figure(args.summary, grades.records, {r.assignment: r.max_points for r in releases})
            print(f"wrote {args.summary}")
        except (OSError, ValueError) as error:  # the figure is a convenience: the tables are written
            print(f"could not write {args.summary} ({type(error).__name__})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
