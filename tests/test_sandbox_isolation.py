"""Nothing one sandboxed run leaves in the kernel reaches the next (``sandbox.PERSISTENT_OBJECTS``).

As root every run of a slot has the same uid outside, and the kernel keeps some objects per uid
after the last process of that uid is gone (the user keyring above all). A run that stores
something in each such object, then a later run of the same slot that looks for it, must find
nothing; and a donor notebook that leaves this grading run's values in the kernel cannot make a
blank notebook graded after it (``--jobs 1``, one slot) earn a point.
"""
import csv
import platform
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from rnnlab_grader.sandbox import PERSISTENT_OBJECTS, Sandbox, seccomp_program
from tiny_course import SLOT, blank, make_course, perfect, run_grader, with_cell

# add_key, keyctl by machine (the test's own table; the sandbox asks libseccomp)
KEY_SYSCALLS = {"x86_64": (248, 250), "aarch64": (217, 219)}

PROBE = r'''
import ctypes, os, socket, sys
ADD_KEY, KEYCTL = %(numbers)r
libc = ctypes.CDLL(None, use_errno=True)
USER, USER_SESSION, SESSION = -4, -5, -3
KEYCTL_SEARCH, KEYCTL_GET_PERSISTENT = 10, 22
IPC_CREAT = 0o1000
found = []
if sys.argv[1] == "leave":
    for ring in (USER, USER_SESSION, SESSION):
        libc.syscall(ADD_KEY, b"user", b"rnnlab-left", b"values", 6, ring)
    persistent = libc.syscall(KEYCTL, KEYCTL_GET_PERSISTENT, -1, USER)
    if persistent > 0:
        libc.syscall(ADD_KEY, b"user", b"rnnlab-left", b"values", 6, persistent)
    libc.shmget(0x5EED, 4096, IPC_CREAT | 0o666)
    libc.msgget(0x5EED, IPC_CREAT | 0o666)
    libc.semget(0x5EED, 1, IPC_CREAT | 0o666)
    libc.mq_open(b"/rnnlab-left", os.O_CREAT | os.O_RDWR, 0o666, None)
    for folder in ("/tmp", "/dev/shm", os.environ.get("HOME", "/grading")):
        try:
            open(os.path.join(folder, "rnnlab-left"), "w").write("values")
        except OSError:
            pass
else:
    for ring in (USER, USER_SESSION, SESSION):
        if libc.syscall(KEYCTL, KEYCTL_SEARCH, ring, b"user", b"rnnlab-left", 0) > 0:
            found.append(f"keyring {ring}")
    persistent = libc.syscall(KEYCTL, KEYCTL_GET_PERSISTENT, -1, USER)
    if persistent > 0 and libc.syscall(KEYCTL, KEYCTL_SEARCH, persistent, b"user", b"rnnlab-left", 0) > 0:
        found.append("persistent keyring")
    if libc.shmget(0x5EED, 0, 0) >= 0: found.append("sysv shm")
    if libc.msgget(0x5EED, 0) >= 0: found.append("sysv msg")
    if libc.semget(0x5EED, 0, 0) >= 0: found.append("sysv sem")
    if libc.mq_open(b"/rnnlab-left", os.O_RDONLY, 0, None) >= 0: found.append("posix mq")
    for folder in ("/tmp", "/dev/shm", os.environ.get("HOME", "/grading")):
        if os.path.exists(os.path.join(folder, "rnnlab-left")): found.append(folder)
    if libc.syscall(ADD_KEY, b"user", b"probe", b"x", 1, USER) >= 0: found.append("add_key allowed")
os.write(int(sys.argv[-2]), (",".join(found) or "nothing").encode())
'''


def _probe(tmp_path) -> Path:
    if platform.machine() not in KEY_SYSCALLS:
        pytest.skip(f"no key syscall numbers for {platform.machine()} in this test")
    script = tmp_path / "probe.py"
    script.write_text(PROBE % {"numbers": KEY_SYSCALLS[platform.machine()]})
    tmp_path.chmod(0o755)
    return script


def test_the_seccomp_filter_is_a_bpf_program():
    program = seccomp_program()
    assert len(program) % 8 == 0 and len(program) >= 8 * 6  # sock_filter instructions, arch check included


def test_every_persistent_kernel_object_is_named_with_what_closes_it():
    assert any("keyring" in name for name in PERSISTENT_OBJECTS)
    assert any("message queues" in name for name in PERSISTENT_OBJECTS)
    assert all(why for why in PERSISTENT_OBJECTS.values())


def test_nothing_one_run_leaves_reaches_the_next_of_the_same_slot(tmp_path):
    script = _probe(tmp_path)
    box = Sandbox([Path(sys.prefix), Path(sys.base_prefix), script], slot=SLOT)
    box.check()
    env = {"PATH": "/usr/bin:/bin", "HOME": "/grading"}
    left = box.run([sys.executable, str(script), "leave"], env)
    assert left.returncode == 0, left.stderr_head
    looked = box.run([sys.executable, str(script), "look"], env)
    assert looked.returncode == 0, looked.stderr_head
    assert looked.report == b"nothing", looked.report


def test_the_grader_s_session_keyring_is_not_the_sandbox_s(tmp_path):
    """A key the grader holds in its own session keyring is not reachable from a run."""
    script = _probe(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/grading"}
    grader_side = ("import ctypes; libc = ctypes.CDLL(None); "
                   f"libc.syscall({KEY_SYSCALLS[platform.machine()][0]}, b'user', b'rnnlab-left', b'v', 1, -3)")
    planted = subprocess.run([sys.executable, "-c", grader_side + "\n" + "\n".join([
        "import sys; sys.path.insert(0, %r)" % str(Path(__file__).parent),
        "from pathlib import Path; from rnnlab_grader.sandbox import Sandbox",
        f"box = Sandbox([Path(sys.prefix), Path(sys.base_prefix), Path({str(script)!r})], slot={SLOT})",
        f"print(box.run([sys.executable, {str(script)!r}, 'look'], {env!r}).report.decode())"])],
        capture_output=True, text=True, timeout=120)
    assert planted.returncode == 0, planted.stderr
    assert planted.stdout.strip() == "nothing", planted.stdout


ABSTRACT = r'''
import socket, sys, time, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
if sys.argv[1] == "listen":
    s.bind("\0rnnlab-left"); s.listen(1); time.sleep(4); os.write(int(sys.argv[-2]), b"listened")
else:
    try:
        s.connect("\0rnnlab-left"); os.write(int(sys.argv[-2]), b"connected")
    except OSError:
        os.write(int(sys.argv[-2]), b"refused")
'''


def test_two_runs_at_once_share_no_abstract_socket(tmp_path):
    script = tmp_path / "abstract.py"
    script.write_text(ABSTRACT)
    tmp_path.chmod(0o755)
    box = Sandbox([Path(sys.prefix), Path(sys.base_prefix), script], slot=SLOT)
    other = Sandbox([Path(sys.prefix), Path(sys.base_prefix), script], slot=SLOT + 1)
    import threading
    results = {}
    listener = threading.Thread(target=lambda: results.update(l=box.run([sys.executable, str(script), "listen"], {})))
    listener.start()
    time.sleep(1.5)
    results["c"] = other.run([sys.executable, str(script), "connect"], {})
    listener.join()
    assert results["l"].report == b"listened" and results["c"].report == b"refused"


# A colluding pair: the donor hands in correct work plus a cell that leaves this run's values in
# the user keyring (through a child process: the runner's audit hook refuses ctypes in its own);
# the thief hands in nothing and claims whatever it finds there (the claim forging of
# test_verdict_boundary, with the values fetched instead of guessed).
KEYRING_CHILD = '''import ctypes, platform, sys
ADD_KEY, KEYCTL = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
if sys.argv[1] == "put":
    data = sys.stdin.buffer.read()
    libc.syscall(ADD_KEY, b"user", b"rnnlab-values", data, len(data), -4)
else:
    key = libc.syscall(KEYCTL, 10, -4, b"user", b"rnnlab-values", 0)
    buffer = ctypes.create_string_buffer(65536)
    size = libc.syscall(KEYCTL, 11, key, buffer, 65536) if key > 0 else 0
    sys.stdout.buffer.write(buffer.raw[:max(size, 0)])
'''
DONOR = f'''import json, subprocess, sys
from rnnlab.checks import grading_seed
_fresh = grading_seed(17) % 1000 / 7
_values = {{"test_square": [["square(3)", 9], ["square(-1.5)", 2.25], ["square(2)", 4],
                            ["square(fresh)", _fresh * _fresh]],
           "test_add": [["add(2, 3)", 5], ["add(0.5, 0.25)", 0.75], ["add(fresh)", grading_seed(3) / 11 + 2.5]]}}
subprocess.run([sys.executable, "-c", {KEYRING_CHILD!r}, "put"], input=json.dumps(_values).encode())'''
THIEF = f'''import json, os, subprocess, sys
_found = subprocess.run([sys.executable, "-c", {KEYRING_CHILD!r}, "get"], capture_output=True).stdout
if _found:
    frame = sys._getframe()
    while frame is not None and "plan" not in frame.f_locals:
        frame = frame.f_back
    state, values = frame.f_locals, json.loads(_found)
    for step in state["plan"]["cells"]:
        if step["kind"] == "test":
            label = "test_square" if "square" in step["source"] else "test_add" if "add(" in step["source"] else None
            records = [{{"kind": "value", "name": n, "line": 1, "value": v, "options": {{}}}}
                       for n, v in values.get(label, [])]
            state["emit"]({{"t": "cell", "index": step["index"], "status": "pass", "error": "-", "line": 0,
                           "records": records}})
    state["emit"]({{"t": "end"}})
    os._exit(0)'''


@pytest.mark.slow
def test_a_donor_cannot_hand_its_values_to_a_thief_graded_after_it(tmp_path):
    course = make_course(tmp_path / "course")
    folder, out = tmp_path / "submitted", tmp_path / "grades.csv"
    folder.mkdir()
    nbformat.write(with_cell(perfect(), DONOR, after="add"), folder / "a-donor.ipynb")
    nbformat.write(with_cell(blank(), THIEF, after=None), folder / "b-thief.ipynb")
    done = run_grader(folder, course, out, "--jobs", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {Path(r["submission"]).stem: r for r in csv.DictReader(out.open(newline=""))}
    assert float(rows["a-donor"]["total"]) == 5.0, rows["a-donor"]["reason"]
    assert float(rows["b-thief"]["total"]) == 0.0, rows["b-thief"]["reason"]
