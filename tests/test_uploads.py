"""Feedback pages packed for each LMS to take back (``rnnlab_grader.uploads``), checked against the
rules of the importers' own source: Canvas's ``Assignment#infer_comment_context_from_filename``
and Moodle's ``assignfeedback_file_zip_importer::is_valid_filename_for_import``."""
import re
import zipfile

from rnnlab_grader import credits, identity, uploads
from rnnlab_grader.results import FileResult
from rnnlab_grader.roster import Student

STUDENTS = [Student("s1", "José", "Müller", "jose@uni.edu", canvas_id="2001"),
            Student("s2", "John", "Smith", "john1@uni.edu", canvas_id="2002", moodle_participants=("4411",)),
            Student("s3", "John", "Smith", "john2@uni.edu", canvas_id="2003", moodle_participants=("4412",)),
            Student("s4", "Ada", "Lovelace", "ada@uni.edu", canvas_id="2004")]
CANVAS_FILES = {"müllerjosé_2001_90001_01_bptt_by_hand.ipynb": "s1",
                "smithjohn_LATE_2002_90002_01_bptt_by_hand-1.ipynb": "s2",
                "smithjohn_2003_90003_bptt.ipynb": "s3"}
MOODLE_FILES = {"John Smith_4411_assignsubmission_file/02_imdb_gradient_probe.ipynb": "s2",
                "John Smith_4412_assignsubmission_file_/sub/probe.ipynb": "s3",
                "Ada Lovelace_4415_assignsubmission_file_probe.ipynb": "s4"}


def canvas_reads(name):
    """(user id, attachment id) as Canvas reads a re-uploaded file's name."""
    numbers = [part for part in name.rsplit("/", 1)[-1].split("_") if re.fullmatch(r"\d+", part)]
    return tuple(numbers[:2])


def moodle_reads(name):
    """(participant, plugin type, plugin, file name) as Moodle reads a path of the feedback zip, or None."""
    parts = [p for p in name.split("/") if p]
    if parts[-1].startswith((".", "~")):
        return None
    info = parts[0].split("_", 4)
    if len(info) < 4 or not info[1].isdigit():
        return None
    rest = info[4] if len(info) == 5 else ""
    return info[1], info[2], info[3], "/".join(p for p in [rest, *parts[1:]] if p)


def test_bundles_follow_the_importers_rules(tmp_path):
    results = [FileResult(path, "", "01_bptt_by_hand" if path in CANVAS_FILES else "02_imdb_gradient_probe",
                          "x", "self", points=1.0) for path in [*CANVAS_FILES, *MOODLE_FILES, "typed.ipynb"]]
    table = credits.credit(results, ["01_bptt_by_hand", "02_imdb_gradient_probe"], identity.People(STUDENTS))
    pages = tmp_path / "feedback"
    for (sid, assignment), entry in table.by_student.items():
        if entry.result is not None:
            (pages / sid).mkdir(parents=True, exist_ok=True)
            (pages / sid / f"{assignment}.html").write_text(f"<p>{sid} {assignment}</p>")
    done = {(b.lms, b.assignment): b for b in uploads.write_uploads(tmp_path / "upload", pages, table)}
    assert set(done) == {("canvas", "01_bptt_by_hand"), ("moodle", "02_imdb_gradient_probe")}

    with zipfile.ZipFile(done["canvas", "01_bptt_by_hand"].path) as archive:
        names = archive.namelist()
        assert len(names) == 3
        for original, sid in CANVAS_FILES.items():
            name = next(n for n in names if canvas_reads(n) == canvas_reads(original))   # the student's own file
            assert archive.read(name).decode() == f"<p>{sid} 01_bptt_by_hand</p>" and name.endswith(".html")
    with zipfile.ZipFile(done["moodle", "02_imdb_gradient_probe"].path) as archive:
        read = {moodle_reads(n): archive.read(n).decode() for n in archive.namelist()}
    assert read == {("4411", "assignsubmission", "file", "feedback-02_imdb_gradient_probe.html"):
                    "<p>s2 02_imdb_gradient_probe</p>",
                    ("4412", "assignsubmission", "file", "feedback-02_imdb_gradient_probe.html"):
                    "<p>s3 02_imdb_gradient_probe</p>",
                    ("4415", "assignsubmission", "file", "feedback-02_imdb_gradient_probe.html"):
                    "<p>s4 02_imdb_gradient_probe</p>"}
    again = uploads.write_uploads(tmp_path / "again", pages, table)
    assert [b.path.read_bytes() for b in again] == [done[b.lms, b.assignment].path.read_bytes() for b in again]


def test_a_page_goes_only_to_the_student_the_lms_named(tmp_path):
    """A Canvas user not on the roster hands in a notebook naming Ada: no page of Ada's goes to that file."""
    results = [FileResult("strangerx_2999_90009_nb.ipynb", "", "nb", "Ada Lovelace", "self", points=1.0),
               FileResult("ada.ipynb", "", "nb", "Ada Lovelace", "self", points=1.0)]
    table = credits.credit(results, ["nb"], identity.People(STUDENTS))
    (tmp_path / "feedback" / "s4").mkdir(parents=True)
    (tmp_path / "feedback" / "s4" / "nb.html").write_text("Ada's page")
    assert table.by_student["s4", "nb"].result.path == "ada.ipynb"
    assert uploads.write_uploads(tmp_path / "upload", tmp_path / "feedback", table) == []
