"""`make grade` against hostile and broken submissions, on the tiny course (``tiny_course``).

One grading run covers every attack below (module fixture); each test then checks the exact
points, the reason shown and the flag, and that the gradebook, the course files and the CSV are
byte-identical afterwards. Attacks on the verdict itself (frame walks, forged claims) are in
``test_verdict_boundary.py``; the real notebooks' round trip is in ``test_grading_round_trip.py``.
The stubborn cell that swallows its alarms runs into a 30 s wall (``SHORT_WALL_S``) after a pair
test that is done in about 3 s.
"""
import csv
import html
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from notebook_tools import ROOT
from rnnlab_grader import submissions, tables, workers
from rnnlab_grader.releases import load_releases
from rnnlab_grader.sandbox import UID_BASE, Sandbox
from rnnlab_grader.store import Store
from tiny_course import (
    ASSIGNMENT,
    CELL_S,
    MAX,
    NAME,
    SHORT_WALL_S,
    SLOT,
    TEST_ADD_HIDDEN,
    TEST_SQUARE_HIDDEN,
    blank,
    digest,
    duplicated,
    make_course,
    perfect,
    processes_of,
    run_grader,
    stripped,
    uid_processes,
    with_answer,
    with_cell,
    with_names,
    without,
)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return make_course(tmp_path_factory.mktemp("tiny") / "course")


# --- hostile answer cells -------------------------------------------------------------------------
SHOWTRACEBACK = "get_ipython().showtraceback = lambda *args, **kwargs: None"
AST_TRY = '''import ast
class WrapInTry(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()), name=None, body=[ast.Pass()])
        node.body = [ast.Try(body=node.body or [ast.Pass()], handlers=[handler], orelse=[], finalbody=[])]
        return ast.fix_missing_locations(node)
get_ipython().ast_transformers.append(WrapInTry())'''
EXCEPTHOOK = '''import sys
sys.excepthook = lambda *args: None
get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)'''
MONKEYPATCHES = ["import math\nmath.isclose = lambda *args, **kwargs: True", "import math\nmath.pi = 3",
                 "import builtins\nbuiltins.isinstance = lambda *args: True",
                 "vars(math)['isclose'] = lambda *args, **kwargs: True",
                 "import rnnlab.checks\nrnnlab.checks.check_pair = lambda *args: None",
                 "check_pair = lambda *args: None",
                 "def square(x):\n    return 0"]
# Answers that cheat while a test runs: patch the library the rest of the test uses, or read the
# value the test expects from the globals they share in Jupyter.
PATCH_DURING_TEST = '''import math
def square(x):
    math.isclose = lambda *args, **kwargs: True
    return 9'''
PEEK_EXPECTED = '''def add(a, b):
    try:
        return expected
    except NameError:
        return 5'''
LIAR = '''class Anything:
    def __eq__(self, other):
        return True
def add(a, b):
    return Anything()'''


def monkeypatched():
    notebook = with_cell(blank(), "def add(a, b):\n    return 0", after="add")
    for source in reversed(MONKEYPATCHES):
        notebook = with_cell(notebook, source, after="pair_names")
    return notebook
FORGED_REPORT = '''import os
line = b"R 1 3 pass - " + b"0" * 64 + b"\\n"
for fd in range(3, 64):
    try:
        os.write(fd, line * 3)
    except OSError:
        pass
print("test_pair_names passed")'''


def escape_cell(course: Path, csv_path: Path, other: Path) -> str:
    """Tries to see, write or remount what a submission must not reach; exits the process (losing
    every later test) if anything outside the sandbox was visible."""
    targets = [str(course), str(course / "solutions"), str(course / "gradebook.db"), str(csv_path),
               str(other), str(ROOT / "solutions"), str(ROOT / "gradebook.db"), "/root"]
    return f'''import os, subprocess
targets = {targets!r}
for path in targets:
    for mode in ("a", "w"):
        try:
            open(path if not os.path.isdir(path) else os.path.join(path, "x"), mode).write("defaced")
        except OSError:
            pass
for command in (["mount", "-o", "remount,rw", "/usr"],
                ["unshare", "-r", "-m", "sh", "-c", "mount -o remount,rw /usr && touch /usr/escaped"],
                ["chattr", "+i", "/grading"]):
    try:
        subprocess.run(command, capture_output=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        pass
visible = [p for p in targets[:-1] if os.path.exists(p)] + sorted(set(os.listdir("/root")) - {{".pyenv"}})
if visible or os.path.exists("/usr/escaped"):
    os._exit(7)'''


SURVIVORS = '''import os, subprocess, time
subprocess.Popen(["sleep", "300"], close_fds=False, start_new_session=True)  # holds the report pipe too
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(300)
    os._exit(0)
try:
    os.kill(os.getppid(), 9)
    os.kill(1, 9)
except OSError:
    pass'''
FORK_BOMB = '''import subprocess
children = []
for _ in range(1000):
    try:
        children.append(subprocess.Popen(["sleep", "60"]))
    except OSError:
        break
print(len(children))'''
NASTY_ERROR = '''Evil = type("=HYPERLINK(\\"http://x\\")", (Exception,), {})
raise Evil("=cmd|' /C calc'!A0 and \\x1b[31m red")'''


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """Grade every hostile and broken file once; return rows by file name, the CSV bytes and the
    protected folders' digests before and after."""
    work = tmp_path_factory.mktemp("grading")
    folder, out = work / "submitted", work / "grades.csv"
    folder.mkdir()
    other = folder / "zz-perfect-after.ipynb"  # sorted last: graded after every attack
    notebooks = {
        "perfect": perfect(), "blank": blank(), "named-blank": with_names(blank(), "Blank Student", "self"),
        "hook-showtraceback": with_cell(blank(), SHOWTRACEBACK, after=None),
        "hook-ast-try": with_cell(blank(), AST_TRY, after=None),
        "hook-excepthook": with_cell(blank(), EXCEPTHOOK, after=None),
        "monkeypatch": monkeypatched(),
        "patch-during-test": with_cell(blank(), PATCH_DURING_TEST, after="square"),
        "peek-expected": with_cell(blank(), PEEK_EXPECTED, after="add"),
        "liar": with_cell(blank(), LIAR, after="add"),
        "forged-report": with_cell(blank(), FORGED_REPORT),
        "escape": with_cell(perfect(), escape_cell(course, out, other), after=None),
        "survivors": with_cell(perfect(), SURVIVORS),
        "fork-bomb": with_cell(perfect(), FORK_BOMB),
        "endless": with_cell(perfect(), "while True:\n    pass"),
        "memory": with_cell(perfect(), "hog = bytearray(64 * 2**30)"),
        "crash": with_cell(perfect(), "import os\nos._exit(3)"),
        "big-output": with_cell(perfect(), "print('x' * 30_000_000)"),
        "nasty-error": with_cell(perfect(), NASTY_ERROR),
        "stripped": stripped(perfect()),
        "deleted": without(perfect(), "add", "test_add"),
        "formula-names": with_names(perfect(), '=HYPERLINK("http://evil.example","x")', "@SUM(1+1)"),
        "control-names": with_names(perfect(), "Ada\x1b[31m\u202eLovelace\r\n", "self"),
        "zz-perfect-after": perfect(),
        "import-reference": with_cell(perfect(), "import rnnlab_reference.probes as leaked\nprint(leaked)"),
        # correct work in other shapes keeps its points
        "honest-magics": with_cell(perfect(), "%matplotlib inline\n!echo hello\nfrom IPython.display import display\n"
                                              "display('shown')", after=None),
        "honest-duplicated-test": duplicated(perfect(), "test_square"),
        "honest-tuple-names": with_names(perfect(), None, None),
        # feedback: a visible failure, a hidden one, an error message that quotes a hidden test
        "wrong-visible": with_answer(with_names(perfect(), "Vera Visible", "self"), "square",
                                     "def square(x):\n    return x + x"),
        "wrong-hidden": with_answer(with_names(perfect(), "Hugo Hidden", "self"), "square",
                                    "def square(x):\n    return float(x * x)"),
        "quoting-error": with_answer(with_names(perfect(), "Quinn Quote", "self"), "square",
                                     f"def square(x):\n    raise AssertionError({TEST_SQUARE_HIDDEN!r})"),
    }
    for name, notebook in notebooks.items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    broken = perfect()
    document = json.loads(nbformat.writes(broken))
    for cell in document["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = source.replace("\n", "\r\n")
    (folder / "crlf.ipynb").write_text(json.dumps(document))  # saved by an editor on Windows
    (folder / "bom.ipynb").write_bytes(b"\xef\xbb\xbf" + nbformat.writes(broken).encode())  # with a byte-order mark
    document = json.loads(nbformat.writes(broken))
    document["cells"][5]["outputs"] = [{"output_type": "stream", "name": "stdout"}]  # no "text"
    (folder / "stream-without-text.ipynb").write_text(json.dumps(document))
    document = json.loads(nbformat.writes(broken))
    document["cells"][5]["source"] = 42
    (folder / "source-not-text.ipynb").write_text(json.dumps(document))
    document = json.loads(nbformat.writes(broken))
    document["cells"][0]["source"] = "notes \ud800"  # a lone surrogate: valid JSON, not valid text
    (folder / "lone-surrogate.ipynb").write_text(json.dumps(document))
    (folder / "garbage.ipynb").write_bytes(os.urandom(4096))
    (folder / "empty.ipynb").write_bytes(b"")
    (folder / "json-list.ipynb").write_text("[1, 2, 3]")
    (folder / "deep.ipynb").write_text("[" * 200_000 + "]" * 200_000)
    (folder / "notes.txt").write_text("my notes")
    document = json.loads(nbformat.writes(broken))
    document["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * (40 * 2**20)}]
    (folder / "big-outputs.ipynb").write_text(json.dumps(document))  # 40 MB of outputs: graded, outputs unread
    with (folder / "huge.ipynb").open("wb") as handle:
        handle.truncate(submissions.MAX_BYTES + 1)  # sparse: refused by its size before it is read
    other_course = nbformat.v4.new_notebook()
    other_course.cells = [nbformat.v4.new_markdown_cell("# Homework 3"), nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(other_course, folder / "other-course.ipynb")
    (folder / "link.ipynb").symlink_to(course / "solutions" / ASSIGNMENT / f"{NAME}.ipynb")
    (folder / "zero-link.ipynb").symlink_to("/dev/zero")  # endless bytes: refused before any is read
    os.mkfifo(folder / "fifo.ipynb")  # opening it would block: refused before it is opened

    before = digest(course)
    started = time.monotonic()
    done = run_grader(folder, course, out, "--feedback", str(work / "feedback"), "--summary", str(work / "summary.png"))
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    csv_bytes = out.read_bytes()
    rows = {Path(r["submission"]).stem: r for r in csv.DictReader(out.open(newline=""))}
    time.sleep(2)  # anything left running would now be writing
    return {"rows": rows, "before": before, "after": digest(course), "csv": csv_bytes, "out": out,
            "folder": folder, "course": course, "stdout": done.stdout, "seconds": seconds,
            "csv_after_wait": out.read_bytes(), "survivors": uid_processes(), "feedback": work / "feedback",
            "summary": work / "summary.png"}


def feedback_page(graded, student):
    from rnnlab_grader import identity

    folder = identity.TYPED_PREFIX + identity.spelled_id(identity.typed_key(student))  # no roster: the typed name
    return (graded["feedback"] / folder / f"{ASSIGNMENT}.html").read_text()


def test_feedback_shows_visible_messages_and_never_hidden_code(graded):
    """One page per student: every test with its points; a visible failure quotes the release's
    assert message; a hidden one says only that a hidden check failed; no line of a hidden test
    is on any page, even when the submission's own error message quotes one."""
    pages = {p: p.read_text() for p in graded["feedback"].glob("*/*.html")}
    assert len(pages) >= 5
    hidden_lines = [line.strip() for line in (TEST_SQUARE_HIDDEN + TEST_ADD_HIDDEN).splitlines() if line.strip()]
    for path, text in pages.items():
        for line in hidden_lines:
            assert line not in text and html.escape(line) not in text, (path, line)
    visible = feedback_page(graded, "Vera Visible")
    assert "square(3) should be 9" in visible and "0 / 2" in visible and "3 / 5" in visible
    assert "a hidden check failed (AssertionError)" in feedback_page(graded, "Hugo Hidden")
    quoting = feedback_page(graded, "Quinn Quote")
    assert "square(3) should be 9" in quoting and "isinstance" not in quoting
    perfect_page = feedback_page(graded, "Ada Lovelace")
    assert perfect_page.count("passed") == 3 and "5 / 5" in perfect_page
    assert not any("grace" in p.parent.name for p in pages)  # named by Ada's files only: a one-sided claim
    blank_page = (graded["feedback"] / "typed.blank-student" / f"{ASSIGNMENT}.html").read_text()
    assert "failed because `square` is not written" in blank_page and "`add` is not written" in blank_page


def test_summary_figure_is_written(graded):
    assert graded["summary"].stat().st_size > 10_000


def row(graded, name):
    return graded["rows"][name]


def points(record):
    return float(record["total"])


def test_every_file_gets_a_row(graded):
    files = {p.stem for p in graded["folder"].iterdir()}
    assert set(graded["rows"]) == files
    assert "in a bubblewrap sandbox each" in graded["stdout"]


def test_correct_work_in_other_shapes_keeps_its_points(graded):
    for name in ("honest-magics", "honest-duplicated-test", "honest-tuple-names", "crlf", "bom"):
        record = row(graded, name)
        assert points(record) == MAX, record
    assert row(graded, "honest-tuple-names")["your_name"] == "Ada Lovelace"
    assert row(graded, "honest-duplicated-test")["reason"] == "" and row(graded, "crlf")["reason"] == ""


def test_perfect_and_blank(graded):
    assert points(row(graded, "perfect")) == MAX and row(graded, "perfect")["reason"] == ""
    assert row(graded, "perfect")["flagged"] == ""
    assert points(row(graded, "blank")) == 0
    assert row(graded, "blank")["reason"] == "test_pair_names failed; test_square failed; test_add failed"


@pytest.mark.parametrize("attack", ["hook-showtraceback", "hook-ast-try", "hook-excepthook", "monkeypatch",
                                    "forged-report"])
def test_a_blank_notebook_cannot_earn_points(graded, attack):
    record = row(graded, attack)
    assert points(record) == 0, record
    assert record["flagged"] == "FLAGGED" and record["reason"].startswith("FLAGGED for review: "), record
    assert "test_pair_names failed; test_square failed; test_add failed" in record["reason"]


def test_what_each_attack_is_flagged_for(graded):
    reason = {name: row(graded, name)["reason"] for name in graded["rows"]}
    assert "get_ipython" in reason["hook-showtraceback"] and "ast" in reason["hook-ast-try"]
    assert "excepthook" in reason["hook-excepthook"] and "ipython-hooks" in reason["hook-excepthook"]
    for expected in ("math.isclose", "math.pi", "builtins", "rnnlab.checks.check_pair", "rebound:check_pair", "vars"):
        assert expected in reason["monkeypatch"], expected
    assert "malformed-report-lines" in reason["forged-report"]
    assert "subprocess.Popen" in reason["survivors"] and "os.fork" in reason["survivors"]


def test_answers_cannot_cheat_while_a_test_runs(graded):
    record = row(graded, "patch-during-test")
    assert points(record) == 0 and "math.isclose" in record["reason"], record  # the patch is refused
    record = row(graded, "peek-expected")
    assert points(record) == 0 and record["flagged"] == "", record  # the test's `expected` is not the answer's


def test_an_object_equal_to_everything_earns_nothing(graded):
    record = row(graded, "liar")  # it cannot be recorded as plain data, so it matches nothing
    assert points(record) == 0 and "__eq__" in record["reason"] and record["flagged"] == "FLAGGED", record


def test_nothing_outside_the_sandbox_is_visible_or_writable(graded):
    record = row(graded, "escape")
    assert points(record) == MAX, record
    assert "process ended" not in record["reason"], record  # the cell exits (status 7) if it saw anything
    assert graded["before"] == graded["after"], "a submission changed the gradebook or the course files"
    assert not Path("/usr/escaped").exists()


def test_nothing_a_submission_starts_outlives_it(graded):
    assert graded["survivors"] == [], graded["survivors"]
    assert points(row(graded, "survivors")) == MAX
    assert points(row(graded, "zz-perfect-after")) == MAX and row(graded, "zz-perfect-after")["reason"] == ""
    assert graded["csv"] == graded["csv_after_wait"]


def test_process_limit_holds_a_fork_bomb(graded):
    record = row(graded, "fork-bomb")
    assert points(record) == MAX and "subprocess.Popen" in record["reason"]


def test_endless_cell_is_cut_and_the_rest_graded(graded):
    record = row(graded, "endless")
    assert points(record) == MAX and f"ran longer than {CELL_S} s" in record["reason"]


def test_memory_hog_fails_inside_its_cell(graded):
    record = row(graded, "memory")
    assert points(record) == MAX and "MemoryError (over the 4 GiB memory limit)" in record["reason"]


def test_a_crash_costs_only_its_own_cell(graded):
    record = row(graded, "crash")  # the notebook runs again without the cell that exited
    assert points(record) == MAX, record
    assert record["reason"] == "FLAGGED for review: _exit; cell 5: the process ended in it (an exit call, a crash " \
                               "or a limit); the notebook ran again without it", record


def test_reasons_never_quote_the_submission(graded):
    assert points(row(graded, "big-output")) == MAX
    record = row(graded, "nasty-error")
    assert points(record) == MAX and record["reason"] == "cell 5: Error", record


def test_malformed_files_get_a_reason(graded):
    expected = {
        "garbage": "not a readable notebook", "empty": "empty file", "json-list": "not a Jupyter notebook",
        "deep": "not a readable notebook", "notes": "not a readable notebook",
        "source-not-text": "malformed notebook: the source of cell 6 is not text",
        "lone-surrogate": "malformed notebook: the source of cell 1 holds text that is not valid Unicode",
        "huge": "larger than 128 MB", "other-course": "not a notebook of this course",
        "link": "not a regular file", "zero-link": "not a regular file", "fifo": "not a regular file",
    }
    for name, reason in expected.items():
        record = row(graded, name)
        assert points(record) == 0 and record["reason"].startswith(reason), (name, record["reason"])
    assert points(row(graded, "stream-without-text")) == MAX  # outputs are never read
    assert points(row(graded, "big-outputs")) == MAX and row(graded, "big-outputs")["reason"] == ""


def test_repaired_notebooks(graded):
    assert points(row(graded, "stripped")) == MAX and "metadata restored" in row(graded, "stripped")["reason"]
    record = row(graded, "deleted")
    assert points(record) == MAX - 2 and "deleted cells put back: add, test_add" in record["reason"]


def test_names_cannot_become_formulas_or_escape_sequences(graded):
    record = row(graded, "formula-names")
    assert record["your_name"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert record["your_partner_name"] == "'@SUM(1+1)"
    assert row(graded, "control-names")["your_name"] == "Ada [31m Lovelace"
    text = graded["csv"].decode()
    assert "\x1b" not in text and "\u202e" not in text


def test_resume_skips_graded_files_and_regrades_changed_ones(graded, tmp_path):
    """RESUME reads the course's results store, never a table (here one a spreadsheet mangled)."""
    out = tmp_path / "grades.csv"
    out.write_text("not, the, table\n")
    shutil.copytree(graded["folder"].parent / "grades-results", tmp_path / "grades-results")
    folder = tmp_path / "submitted"
    folder.mkdir()
    for name in ("perfect", "blank"):
        (folder / f"{name}.ipynb").write_bytes((graded["folder"] / f"{name}.ipynb").read_bytes())
    nbformat.write(with_names(perfect(), "Late Student", "self"), folder / "late.ipynb")
    done = run_grader(folder, graded["course"], out, "--resume")
    assert done.returncode == 0, done.stderr
    graded_now = [line for line in done.stdout.splitlines() if line.startswith("  ")]
    assert len(graded_now) == 1 and "late.ipynb: 5/5" in graded_now[0], done.stdout
    rows = list(csv.DictReader(out.open(newline="")))
    assert len(rows) == len(graded["rows"]) + 1


def test_a_run_past_the_wall_limit_keeps_what_it_proved(course, tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    stubborn = "import time\nwhile True:\n    try:\n        time.sleep(1000)\n    except BaseException:\n        pass"
    nbformat.write(with_cell(perfect(), stubborn), folder / "stubborn.ipynb")
    started = time.monotonic()
    done = run_grader(folder, course, tmp_path / "grades.csv", wall=SHORT_WALL_S)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < SHORT_WALL_S + 60
    record = next(csv.DictReader((tmp_path / "grades.csv").open(newline="")))
    assert points(record) == 1 and f"stopped at the {SHORT_WALL_S} s limit" in record["reason"], record
    assert uid_processes() == []


def test_without_bubblewrap_the_grader_refuses(course, tmp_path):
    folder = tmp_path / "submitted"
    folder.mkdir()
    nbformat.write(perfect(), folder / "perfect.ipynb")
    done = run_grader(folder, course, tmp_path / "grades.csv", env={"PATH": str(tmp_path)})
    assert done.returncode == 2 and "apt-get install bubblewrap" in done.stderr and "--unsafe-no-sandbox" in done.stderr
    assert not (tmp_path / "grades.csv").exists()


# --- units: the pieces that see untrusted bytes ---------------------------------------------------


def test_trusted_imports_leave_answers_alone(course):
    release = load_releases(course)[0]
    assert submissions.trusted_imports(release) == [("check_pair", "rnnlab.checks", "check_pair"),
                                                    ("grading_seed", "rnnlab.checks", "grading_seed"),
                                                    ("math", "math", None), ("record", "rnnlab.checks", "record")]










def test_the_sandbox_as_a_normal_user(tmp_path_factory):
    """The grader run by a normal user: bubblewrap maps it into a user namespace. A hostile
    script (system Python, our sandbox module) sees no course file, writes nothing outside its
    tmpfs, has loopback only, and leaves no process behind."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create the normal user this test runs as")
    user = UID_BASE + 900 + os.getpid() % 99  # a normal user of its own
    base = Path("/tmp") / f"rnnlab-user-sandbox-{os.getpid()}"
    base.mkdir(mode=0o755)
    try:
        (base / "sandbox.py").write_text(Path(sys.modules["rnnlab_grader.sandbox"].__file__).read_text())
        import pyseccomp  # the seccomp binding, one pure-Python file over libseccomp

        (base / "pyseccomp.py").write_text(Path(pyseccomp.__file__).read_text())
        secret = base / "course"
        secret.mkdir(mode=0o755)
        (secret / "gradebook.db").write_text("instructor only")
        (secret / "gradebook.db").chmod(0o666)  # writable by the user outside: only the sandbox stops it
        hostile = f'''
import os, socket, subprocess, sys
seen = os.path.exists({str(secret)!r})
try:
    open({str(secret / "gradebook.db")!r}, "a").write("x")
    wrote = True
except OSError:
    wrote = False
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    online = True
except OSError:
    online = False
subprocess.Popen(["sleep", "300"], start_new_session=True)
os.write(int(sys.argv[-2]), f"{{os.getuid()}} seen={{seen}} wrote={{wrote}} online={{online}}".encode())
'''
        (base / "hostile.py").write_text(hostile)
        driver = ("import sys; sys.path.insert(0, %r); from pathlib import Path; from sandbox import Sandbox; "
                  "box = Sandbox(readable=[Path(%r)]); box.check(); "
                  "print(box.run(['/usr/bin/python3', %r], env={'PATH': '/usr/bin:/bin'}).report.decode())"
                  % (str(base), str(base / "hostile.py"), str(base / "hostile.py")))
        done = subprocess.run(["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "/usr/bin/python3",
                               "-c", driver], capture_output=True, text=True, timeout=120, cwd=str(base))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "1000 seen=False wrote=False online=False", done.stdout
        assert (secret / "gradebook.db").read_text() == "instructor only"
        deadline = time.monotonic() + 30
        while processes_of(range(user, user + 1)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not processes_of(range(user, user + 1))
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)











PARALLEL_SAMPLE = ("perfect", "blank", "hook-ast-try", "monkeypatch", "crash", "stripped", "deleted", "garbage",
                   "formula-names", "honest-tuple-names", "zz-perfect-after")


def test_two_jobs_give_the_same_rows_as_one(graded, tmp_path):
    """--jobs 2: two sandboxes at once (uids SLOT and SLOT+1), the same table as one at a time."""
    folder = tmp_path / "submitted"
    folder.mkdir()
    for name in PARALLEL_SAMPLE:
        (folder / f"{name}.ipynb").write_bytes((graded["folder"] / f"{name}.ipynb").read_bytes())
    out = tmp_path / "grades.csv"
    done = run_grader(folder, graded["course"], out, "--jobs", "2", "--students", str(tmp_path / "students.csv"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 at once, 1 thread(s) each" in done.stdout
    rows = list(csv.DictReader(out.open(newline="")))
    assert [r["submission"] for r in rows] == sorted(f"{n}.ipynb" for n in PARALLEL_SAMPLE)
    for record in rows:
        assert record == graded["rows"][Path(record["submission"]).stem], record["submission"]
    time.sleep(2)
    assert processes_of(range(UID_BASE + SLOT, UID_BASE + SLOT + 2)) == []
    students = {r["student"]: r for r in csv.DictReader((tmp_path / "students.csv").open(newline=""))}
    assert all(r["max_total"] == "5" for r in students.values()) and students, students




def test_answer_cells_cannot_import_the_references(graded):
    """The instructor-only references reach test cells only (the runner's own __import__ for tests)."""
    record = row(graded, "import-reference")
    assert points(record) == 5 and "ModuleNotFoundError" in record["reason"], record["reason"]






def test_a_hidden_folder_inside_a_readable_one_is_seen_empty(tmp_path):
    """An installed copy of rnnlab_reference sits inside the Python environment the sandbox shows:
    ``Sandbox(hidden=...)`` mounts it empty."""
    shown, hidden = tmp_path / "site-packages", tmp_path / "site-packages" / "rnnlab_reference"
    hidden.mkdir(parents=True)
    (shown / "visible.py").write_text("x = 1\n")
    (hidden / "probes.py").write_text("ANSWER = 42\n")
    os.chmod(tmp_path, 0o755)
    sandbox = Sandbox([shown], slot=SLOT, hidden=[hidden])
    read = subprocess.run(sandbox.command(["/bin/cat", str(shown / "visible.py")]), capture_output=True, timeout=60)
    assert read.returncode == 0 and read.stdout == b"x = 1\n", read.stderr
    listed = subprocess.run(sandbox.command(["/bin/ls", "-A", str(hidden)]), capture_output=True, timeout=60)
    assert listed.returncode == 0 and listed.stdout == b"", (listed.stdout, listed.stderr)


@pytest.fixture(scope="module")
def local_cluster():
    """A Dask LocalCluster of two single-threaded worker processes on this machine (no network)."""
    distributed = pytest.importorskip("distributed")
    import dask

    # As the README starts a scheduler: a worker holds only the file it grades, so a worker that
    # dies takes no queued file with it.
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        yield cluster


CLUSTER_SAMPLE = ("perfect", "blank", "crash", "stripped", "garbage", "honest-tuple-names")


def test_a_dask_cluster_gives_the_same_rows_as_one_machine(graded, local_cluster, tmp_path):
    """--scheduler: each file is sent to a worker, which sandboxes and grades it; the same table."""
    folder = tmp_path / "submitted"
    folder.mkdir()
    for name in CLUSTER_SAMPLE:
        (folder / f"{name}.ipynb").write_bytes((graded["folder"] / f"{name}.ipynb").read_bytes())
    (folder / "link.ipynb").symlink_to(folder / "perfect.ipynb")  # refused by the grader, never sent
    out = tmp_path / "grades.csv"
    done = run_grader(folder, graded["course"], out, "--scheduler", local_cluster.scheduler_address)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 workers, 2 threads" in done.stdout
    rows = {Path(r["submission"]).stem: r for r in csv.DictReader(out.open(newline=""))}
    assert sorted(rows) == sorted([*CLUSTER_SAMPLE, "link"])
    for name in CLUSTER_SAMPLE:
        assert rows[name] == graded["rows"][name], name
    assert "not a regular file" in rows["link"]["reason"] and rows["link"]["total"] == "0"


def test_a_worker_that_dies_mid_file_costs_only_that_row(local_cluster, tmp_path, monkeypatch):
    """The worker dies on one file (Dask retries it on other workers, which die too): that file gets
    a row with a reason, every other file its points, and the cluster keeps grading."""
    from dask_tasks import kill_the_worker_on_doomed
    monkeypatch.setattr(workers, "grade_bytes", kill_the_worker_on_doomed)
    for name in ("a", "doomed", "b"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    dask = workers.DaskWorkers(local_cluster.scheduler_address, [], {}, None, False, SLOT, 1)
    store = Store(tmp_path / "results")
    try:
        workers.grade_all([(tmp_path / f"{n}.ipynb", f"{n}.ipynb") for n in ("a", "doomed", "b")], dask, store)
    finally:
        dask.close()
    tables.write_by_file(tmp_path / "grades.csv", store.all(), [ASSIGNMENT])
    rows = list(csv.DictReader((tmp_path / "grades.csv").open(newline="")))
    assert [r["total"] for r in rows] == ["5", "5", "0"], [r["reason"] for r in rows]
    assert "the grader failed on this file (KilledWorker)" in rows[2]["reason"]




