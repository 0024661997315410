"""``rnnlab-grade`` (``make grade SUBMISSIONS=<folder>``): autograde a folder of submissions into CSVs.

The options become one frozen ``Options``; a grading ``session.Session`` does the rest, step by
step (people, references, grading, credits, similarity, gradebook, tables, LMS files, feedback,
summary). Results go to the course's store (``--store``), and every table is written from the
whole store, so notebooks graded one folder at a time accumulate.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .sandbox import Limits
from .session import Options, Session


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

def parser() -> argparse.ArgumentParser:
    """The command line (``rnnlab-grade --help``)."""
    p = argparse.ArgumentParser(prog="rnnlab-grade", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("submissions", type=Path, help="folder of submitted files (searched recursively)")
    p.add_argument("--root", type=Path, default=Path.cwd(), help="course root (notebooks/, solutions/)")
    p.add_argument("--out", type=Path, default=Path("grades-by-file.csv"), help="the table of one row per file")
    p.add_argument("--store", type=Path, default=None,
                   help="the course's results store, which every run adds to and the tables are written from "
                        "(default: beside --out, named like it with -results for -by-file.csv)")
    p.add_argument("--students", type=Path, default=None,
                   help="also write one row per student here (both partners credited)")
    p.add_argument("--feedback", type=Path, default=None,
                   help="write one HTML page per student and notebook here (no hidden-test code)")
    p.add_argument("--uploads", type=Path, default=None,
                   help="pack the --feedback pages here as zips Canvas (Re-Upload Submissions) and Moodle (feedback "
                        "files in a zip) take back, per notebook, for files the LMS named")
    p.add_argument("--final", type=Path, default=None,
                   help="write a notebook's LMS files here too once every counted file's written answers are "
                        "graded in formgrader (removed while any is not)")
    p.add_argument("--summary", type=Path, default=None,
                   help="save the instructor's summary figure here (points per notebook, most failed tests)")
    p.add_argument("--gradebook", type=Path, default=None,
                   help="the course's nbgrader gradebook.db: import each pair's autograded results and graded "
                        "cells (autograded/ next to it) for formgrader, and add hand-graded points to the "
                        "--students table; hand grades are never overwritten")
    p.add_argument("--roster", type=Path, default=None,
                   help="the class: the course's CSV (id, first_name, last_name, email, section, canvas_id, "
                        "sis_user_id, sis_login_id, moodle_id, partner), Canvas's gradebook export, or Moodle's grade "
                        "export or grading worksheet; default: the gradebook's students, if any, else "
                        "typed names are used as they are")
    p.add_argument("--moodle-worksheet", type=Path, action="append", default=[], dest="worksheets",
                   help="Moodle's grading worksheet of an assignment (repeatable): its participant numbers, which "
                        "Moodle writes into the download's folder names, tell apart students of one name")
    p.add_argument("--canvas", type=Path, default=None,
                   help="write a Canvas gradebook-import CSV here (needs a roster)")
    p.add_argument("--moodle", type=Path, default=None, help="write a Moodle grade-import CSV here (needs a roster)")
    p.add_argument("--similarity", type=Path, default=None,
                   help="write the page of answers similar between different pairs here (a flag, never points)")
    p.add_argument("--wall", type=float, default=Limits.wall_s, help="seconds per submission")
    p.add_argument("--cell-timeout", type=float, default=Limits.cell_s, help="seconds per cell")
    p.add_argument("--memory-gib", type=float, default=Limits.memory_gib)
    p.add_argument("--processes", type=int, default=Limits.processes, help="processes and threads per sandbox")
    p.add_argument("--resume", action="store_true", help="skip files the store already holds with the same content")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="submissions graded at once, each in its own sandbox (default: the number of cores)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch/BLAS threads per sandbox (default: cores divided by jobs)")
    p.add_argument("--slot", type=int, default=0,
                   help="as root, submissions run as uid 62000+SLOT or the next free slot on this machine "
                        "(graders running at once take different slots by themselves)")
    p.add_argument("--scheduler", default=None,
                   help="grade on the Dask cluster whose scheduler is here (tcp://host:8786) instead of this "
                        "machine's --jobs; every worker needs the course installed and bubblewrap")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run submissions WITHOUT isolation (only if you trust every one of them)")
    return p


def options(argv: list[str] | None = None) -> Options:
    """The command line as one frozen ``Options``."""
    args = parser().parse_args(argv)
    store = args.store or args.out.with_name(args.out.stem.removesuffix("-by-file") + "-results")
    return Options(
        submissions=args.submissions, root=args.root.resolve(), out=args.out, store=store, students=args.students,
        feedback=args.feedback, summary=args.summary, gradebook=args.gradebook, roster=args.roster,
        worksheets=tuple(args.worksheets),
        canvas=args.canvas, moodle=args.moodle, similarity=args.similarity, uploads=args.uploads, final=args.final,
        limits=Limits(args.wall, args.cell_timeout, args.memory_gib, args.processes), resume=args.resume,
        jobs=args.jobs, threads=args.threads, slot=args.slot, scheduler=args.scheduler,
        unsafe=args.unsafe_no_sandbox)


def main(argv: list[str] | None = None) -> int:
    chosen = options(argv)
    if (problem := check_folders(chosen.submissions, chosen.root)) is not None:
        print(problem, file=sys.stderr)
        return 2
    return Session(chosen).run()


if __name__ == "__main__":
    sys.exit(main())
