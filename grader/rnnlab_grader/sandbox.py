"""Run one untrusted program under bubblewrap, bounded in what it sees, uses and leaves behind.

What a sandboxed run gets (see ``Sandbox.command``):

* its own PID, mount, IPC, UTS and network namespaces (the network holds only loopback);
* a read-only view of the system (``/usr``, ``/etc``), of the Python it runs and of the paths
  in ``readable``, and nothing else of the host: not the course folder, ``solutions/``, the
  gradebook, the CSV or any other submission;
* a private, size-limited ``/tmp`` and home (``/grading``, tmpfs): nothing it writes reaches the
  host disk, so there is no scratch folder to sabotage or clean;
* an unprivileged uid and no capabilities, even when the grader is root: as root, bubblewrap
  builds the namespaces, ``setpriv`` drops to a dedicated uid (``uid_base + slot``: submissions
  and the solutions' reference runs never share one) and ``unshare`` puts the program in a user
  namespace of its own; as a normal user, bubblewrap maps the caller into a user namespace and
  forbids nested ones;
* nothing that outlives it and that the next sandbox could read (see ``PERSISTENT_OBJECTS``): a
  seccomp filter refuses the kernel's key syscalls (``add_key``, ``request_key``, ``keyctl``: the
  user keyring is per uid and survives every process), each run starts in a fresh session
  keyring and a fresh user namespace (so its own user keyring), and IPC objects live in the
  run's own IPC namespace, which dies with it;
* limits: address space (``memory_gib``), number of processes and threads (``processes``),
  wall-clock time (``wall_s``, then the whole sandbox is killed);
* an end: when the program exits or is killed, the PID namespace dies and every process it
  started dies with it (``--die-with-parent`` covers a grader that dies first).

Standard library only but for the seccomp filter, written by libseccomp through ``pyseccomp``
(or Debian's ``python3-seccomp``, the same API), so a normal user can run it with any Python 3.10+.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

UID_BASE = 62000          # sandboxed uid when the grader is root: UID_BASE + slot (one per parallel job)
REFERENCE_UID_BASE = 61000  # the solutions' reference runs: never a uid a submission runs as
NAMESPACE_UID = 1000      # the program's uid inside its user namespace
USER_MODE_UID = NAMESPACE_UID  # uid inside the user namespace when the grader is a normal user
DENIED_SYSCALLS = ("add_key", "request_key", "keyctl")
KEYCTL_JOIN_SESSION_KEYRING = 1

# Kernel objects that can outlive a process and be found again by a later one of the same uid,
# and what closes each for a sandboxed run (tests/test_sandbox_isolation.py shows each closed).
PERSISTENT_OBJECTS = {
    "user and user-session keyrings (per uid, kept after the last process)":
        "seccomp refuses add_key/request_key/keyctl; a fresh user namespace holds its own user keyrings",
    "session keyring (inherited from the grader)": "a fresh, empty session keyring joined before bubblewrap starts",
    "persistent keyring (keyctl_get_persistent, per uid)": "seccomp refuses keyctl",
    "System V message queues, semaphores, shared memory": "--unshare-ipc: the run's own IPC namespace dies with it",
    "POSIX message queues (mq_open)": "--unshare-ipc: the mqueue namespace is the IPC namespace",
    "POSIX shared memory and files (/dev/shm, /tmp, home)": "private tmpfs mounts, gone with the mount namespace",
    "abstract Unix sockets": "--unshare-net: the run's own network namespace",
    "processes left running (and their inotify instances)": "--unshare-pid: the PID namespace dies with its init",
    "fanotify marks": "need CAP_SYS_ADMIN in the initial user namespace, which the run never holds",
    "/proc views of other processes": "a /proc of the run's own PID namespace; PR_SET_DUMPABLE=0 in the runner",
}
HOME = "/grading"
SYSTEM_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


def install_hint() -> str:
    return ("bubblewrap (bwrap), util-linux (setpriv, unshare) and libseccomp are needed to run untrusted "
            "submissions: on Debian/Ubuntu run "
            "`sudo apt-get install bubblewrap` (as root: `apt-get update && apt-get install -y bubblewrap`); "
            "on Fedora `sudo dnf install bubblewrap`. Only if you trust every submission, pass --unsafe-no-sandbox.")


@dataclass(frozen=True)
class Limits:
    """Per submission: wall-clock seconds, seconds per cell, address space (GiB) per process,
    processes and threads in the sandbox, size of each private tmpfs (MiB)."""

    wall_s: float = 600
    cell_s: float = 120
    memory_gib: float = 4.0
    processes: int = 128
    scratch_mib: int = 512


@dataclass
class Outcome:
    """What a sandboxed run left: exit status (None when killed at the wall limit), the bytes it
    wrote to its report channel (at most ``max_report_bytes``) and to its display channel, and the start of its stderr
    (for the instructor's console only; never put in a report: it is the submission's text)."""

    returncode: int | None
    report: bytes
    stderr_head: bytes
    timed_out: bool
    seconds: float
    display: bytes = b""  # what it wrote to its display channel (at most ``max_display_bytes``)


def _seccomp_binding():
    """libseccomp's Python binding: ``pyseccomp``, or Debian's ``python3-seccomp`` (the same API)."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError):
        try:
            import seccomp
        except ImportError as missing:
            raise SandboxUnavailable("the seccomp binding is missing: pip install pyseccomp (it needs libseccomp, "
                                     "on Debian/Ubuntu the libseccomp2 package). " + install_hint()) from missing
    return seccomp


@functools.lru_cache(maxsize=1)
def seccomp_program() -> bytes:
    """The seccomp filter every sandboxed program runs under, as the BPF program bubblewrap
    loads (``--seccomp``): every syscall allowed but ``DENIED_SYSCALLS``, which fail with EPERM.
    Raises ``SandboxUnavailable`` when libseccomp's Python binding is missing."""
    seccomp = _seccomp_binding()
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as sink:
        rules.export_bpf(sink)
    with os.fdopen(read_end, "rb") as source:
        return source.read()


def _program_fd(program: bytes) -> int:
    """A file descriptor holding ``program`` from its start (bubblewrap reads it once)."""
    fd = os.memfd_create("rnnlab-seccomp", 0)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@functools.lru_cache(maxsize=1)
def _keyctl() -> tuple:
    """libc's ``syscall`` and this machine's number of ``keyctl`` (libseccomp knows every arch)."""
    seccomp = _seccomp_binding()
    return ctypes.CDLL(None, use_errno=True).syscall, int(seccomp.resolve_syscall(seccomp.Arch.NATIVE, "keyctl"))


def _join_fresh_session_keyring(syscall, keyctl: int) -> None:
    """In the child before exec: join a new, empty session keyring instead of the grader's, which
    every sandbox would otherwise inherit (and possess)."""
    if syscall(keyctl, KEYCTL_JOIN_SESSION_KEYRING, None) < 0:
        raise OSError(ctypes.get_errno(), "could not join a fresh session keyring")


def _tasks_of(uid: int) -> int:
    """Processes and threads the kernel counts against RLIMIT_NPROC for ``uid``."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            count += int(fields.get("Threads", "1").strip())
    return count


@dataclass
class Sandbox:
    """Runs programs under bubblewrap with ``limits``; ``readable`` folders (and files) are
    bound read-only at their own paths, except ``hidden`` folders inside them, which the program
    sees empty (an installed copy of the instructor-only references, for example). ``slot`` picks
    the uid of parallel jobs.
    ``unsafe=True`` runs without isolation (an instructor's explicit choice, never a fallback)."""

    readable: list[Path]
    limits: Limits = Limits()
    slot: int = 0
    unsafe: bool = False
    hidden: list[Path] = field(default_factory=list)

    uid_base: int = UID_BASE

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    @property
    def uid(self) -> int:
        """The uid outside the sandbox that the program's processes belong to."""
        return self.uid_base + self.slot if self.as_root else os.getuid()

    def check(self) -> None:
        """Raise ``SandboxUnavailable`` (with how to fix it) unless a sandboxed ``true`` runs."""
        if self.unsafe:
            return
        if platform.system() != "Linux":
            raise SandboxUnavailable(f"bubblewrap needs Linux, this is {platform.system()}. " + install_hint())
        if not shutil.which("bwrap"):
            raise SandboxUnavailable("bwrap not found. " + install_hint())
        if self.as_root and not (shutil.which("setpriv") and shutil.which("unshare")):
            raise SandboxUnavailable("setpriv or unshare (util-linux) not found: install util-linux to drop root "
                                     "in the sandbox.")
        probe = self.run(["/bin/true"] if Path("/bin/true").exists() else ["true"], env={}, report_fds=False)
        if probe.returncode != 0:
            raise SandboxUnavailable("bubblewrap could not create its namespaces here: "
                                     + probe.stderr_head.decode(errors="replace").strip()[:300]
                                     + " (in a container, allow user namespaces or run the grader on the host)")

    def command(self, argv: list[str], seccomp_fd: int | None = None) -> list[str]:
        """The full command line that runs ``argv`` in the sandbox; ``seccomp_fd`` holds the filter
        bubblewrap loads (``run`` passes it; without it only the namespaces and mounts apply)."""
        if self.unsafe:
            return list(argv)
        size = str(self.limits.scratch_mib * 2**20)
        cmd = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               "--die-with-parent", "--new-session", "--hostname", "sandbox",
               "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev",
               "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
               "--perms", "1777", "--size", size, "--tmpfs", HOME]
        for name in SYSTEM_DIRS:
            host = Path("/") / name
            if host.is_symlink():
                cmd += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir():
                cmd += ["--ro-bind", str(host), str(host)]
        cmd += self._bind_arguments()
        cmd += ["--chdir", HOME]
        if seccomp_fd is not None:
            cmd += ["--seccomp", str(seccomp_fd)]
        if self.as_root:
            namespace = str(NAMESPACE_UID)
            return [*cmd, "--", "setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs",
                    "--", "unshare", "--user", f"--map-user={namespace}", f"--map-group={namespace}", "--", *argv]
        return [*cmd, "--unshare-user", "--uid", str(USER_MODE_UID), "--gid", str(USER_MODE_UID),
                "--disable-userns", "--cap-drop", "ALL", "--", *argv]

    def _bind_arguments(self) -> list[str]:
        """``readable`` bound read-only at their own paths (parents traversable), ``hidden`` seen empty."""
        cmd = []
        readable = sorted({Path(p).resolve() for p in self.readable})
        parents = sorted({a for p in readable for a in p.parents if a != Path("/")} - set(readable),
                         key=lambda a: len(a.parts))
        for folder in parents:  # traversable (0755), not the 0700 bubblewrap would otherwise make
            if not any(folder == r or r in folder.parents for r in readable):
                cmd += ["--perms", "0755", "--dir", str(folder)]
        for path in readable:
            cmd += ["--ro-bind", str(path), str(path)]
        for path in sorted({Path(p).resolve() for p in self.hidden}):
            if any(path == r or r in path.parents for r in readable):
                cmd += ["--size", "4096", "--tmpfs", str(path)]  # mounted over the bind: seen empty
        return cmd

    def _child_setup(self):
        """What the child does before exec: a fresh session keyring, then address space and
        process count (inherited by the sandbox)."""
        memory = int(self.limits.memory_gib * 2**30)
        keyctl = None if self.unsafe else _keyctl()
        tasks = None if self.unsafe else _tasks_of(self.uid) + self.limits.processes

        def setup() -> None:
            if keyctl is not None:
                _join_fresh_session_keyring(*keyctl)
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            if tasks is not None:
                resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))
        return setup

    def run(self, argv: list[str], env: dict[str, str], stdin: bytes = b"", max_report_bytes: int = 4 * 2**20,
            max_display_bytes: int = 8 * 2**20, report_fds: bool = True) -> Outcome:
        """Run ``argv`` sandboxed with ``env`` and ``stdin``. The program writes its report to the
        fd whose number is appended to ``argv`` and what it displays (printed text, figures) to a
        second fd appended after it: two pipes, each with its own bound, so no amount of display
        can cut the report. Returns when the sandbox is gone (wall limit included)."""
        report_r, report_w = os.pipe()
        display_r, display_w = os.pipe()
        seccomp_fd = None if self.unsafe else _program_fd(seccomp_program())
        passed = [fd for fd in (report_w, display_w, seccomp_fd) if fd is not None]
        started = time.monotonic()
        try:
            extra = [str(report_w), str(display_w)] if report_fds else []
            process = subprocess.Popen(self.command([*argv, *extra], seccomp_fd), env=env,
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       pass_fds=passed, start_new_session=True, preexec_fn=self._child_setup())
        finally:
            for fd in passed:
                os.close(fd)
        report, display, stderr_head = bytearray(), bytearray(), bytearray()
        readers = [threading.Thread(target=_drain, args=(report_r, report, max_report_bytes), daemon=True),
                   threading.Thread(target=_drain, args=(display_r, display, max_display_bytes), daemon=True),
                   threading.Thread(target=_drain, args=(process.stderr.fileno(), stderr_head, 4096), daemon=True),
                   threading.Thread(target=_feed, args=(process.stdin, stdin), daemon=True)]
        for reader in readers:
            reader.start()
        timed_out = False
        try:
            timed_out = not _wait(process, self.limits.wall_s)
        finally:
            _kill_group(process)
        for reader in readers:
            reader.join(timeout=10)
        os.close(report_r)
        os.close(display_r)
        process.stderr.close()
        if STOP.is_set():
            raise Cancelled("grading is being stopped")
        return Outcome(None if timed_out else process.returncode, bytes(report), bytes(stderr_head), timed_out,
                       time.monotonic() - started, bytes(display))


STOP = threading.Event()  # set by a Ctrl-C of the grader: every run ends now and reports nothing


class Cancelled(RuntimeError):
    """The run was ended because grading is being stopped (``STOP``)."""


def _wait(process: subprocess.Popen, wall_s: float) -> bool:
    """Wait for ``process`` at most ``wall_s`` seconds, or until ``STOP`` is set; True if it ended."""
    deadline = time.monotonic() + wall_s
    while not STOP.is_set():
        try:
            process.wait(timeout=min(0.2, max(0.0, deadline - time.monotonic())))
            return True
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                return False
    return False


def _kill_group(process: subprocess.Popen) -> None:
    """Kill bubblewrap's process group (its PID namespace dies with it) and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _drain(fd: int, into: bytearray, limit: int) -> None:
    """Read ``fd`` to its end, keeping the first ``limit`` bytes (the rest is read and dropped,
    so a program that writes without end never blocks on a full pipe)."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        if len(into) < limit:
            into.extend(chunk[: limit - len(into)])


def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except (BrokenPipeError, OSError, ValueError):
        pass


if __name__ == "__main__":  # `python sandbox.py -- cmd ...`: run a command sandboxed (for trying it out)
    box = Sandbox(readable=[Path(sys.prefix), Path(sys.base_prefix)])
    box.check()
    result = box.run(sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else ["/bin/sh", "-c", "id"], env={})
    print(result)
