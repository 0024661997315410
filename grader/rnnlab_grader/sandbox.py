"""Run one untrusted program under bubblewrap, bounded in what it sees, uses and leaves behind.

What a sandboxed run gets (see ``Sandbox.command``):

* its own PID, mount, IPC, UTS and network namespaces (the network holds only loopback);
* a read-only view of the system (``/usr``, ``/etc``), of the Python it runs and of the paths
  in ``readable``, and nothing else of the host: not the course folder, ``solutions/``, the
  gradebook, the CSV or any other submission;
* a private, size-limited ``/tmp`` and home (``/grading``, tmpfs): nothing it writes reaches the
  host disk, so there is no scratch folder to sabotage or clean;
* an unprivileged uid and no capabilities, even when the grader is root: as root, bubblewrap
  builds the namespaces and ``setpriv`` drops to a dedicated uid (``UID_BASE + slot``) before
  the program starts; as a normal user, bubblewrap maps the caller into a user namespace and
  forbids nested ones;
* limits: address space (``memory_gib``), number of processes and threads (``processes``),
  wall-clock time (``wall_s``, then the whole sandbox is killed);
* an end: when the program exits or is killed, the PID namespace dies and every process it
  started dies with it (``--die-with-parent`` covers a grader that dies first).

Standard library only, so a normal user can run it with any Python 3.10+ (the tests do).
"""
from __future__ import annotations

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
USER_MODE_UID = 1000      # uid inside the user namespace when the grader is a normal user
HOME = "/grading"
SYSTEM_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


def install_hint() -> str:
    return ("bubblewrap (bwrap) is needed to run untrusted submissions: on Debian/Ubuntu run "
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
    wrote to its report channel (at most ``max_report_bytes``), and the start of its stderr
    (for the instructor's console only; never put in a report: it is the submission's text)."""

    returncode: int | None
    report: bytes
    stderr_head: bytes
    timed_out: bool
    seconds: float


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

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    @property
    def uid(self) -> int:
        """The uid outside the sandbox that the program's processes belong to."""
        return UID_BASE + self.slot if self.as_root else os.getuid()

    def check(self) -> None:
        """Raise ``SandboxUnavailable`` (with how to fix it) unless a sandboxed ``true`` runs."""
        if self.unsafe:
            return
        if platform.system() != "Linux":
            raise SandboxUnavailable(f"bubblewrap needs Linux, this is {platform.system()}. " + install_hint())
        if not shutil.which("bwrap"):
            raise SandboxUnavailable("bwrap not found. " + install_hint())
        if self.as_root and not shutil.which("setpriv"):
            raise SandboxUnavailable("setpriv (util-linux) not found: install util-linux to drop root in the sandbox.")
        probe = subprocess.run(self.command(["/bin/true"] if Path("/bin/true").exists() else ["true"]),
                               capture_output=True, timeout=60, preexec_fn=self._limit)
        if probe.returncode != 0:
            raise SandboxUnavailable("bubblewrap could not create its namespaces here: "
                                     + probe.stderr.decode(errors="replace").strip()[:300]
                                     + " (in a container, allow user namespaces or run the grader on the host)")

    def command(self, argv: list[str]) -> list[str]:
        """The full command line that runs ``argv`` in the sandbox."""
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
        readable = sorted({Path(p).resolve() for p in self.readable})
        parents = sorted({a for p in readable for a in p.parents if a != Path("/")} - set(readable), key=lambda a: len(a.parts))
        for folder in parents:  # traversable (0755), not the 0700 bubblewrap would otherwise make
            if not any(folder == r or r in folder.parents for r in readable):
                cmd += ["--perms", "0755", "--dir", str(folder)]
        for path in readable:
            cmd += ["--ro-bind", str(path), str(path)]
        for path in sorted({Path(p).resolve() for p in self.hidden}):
            if any(path == r or r in path.parents for r in readable):
                cmd += ["--size", "4096", "--tmpfs", str(path)]  # mounted over the bind: seen empty
        cmd += ["--chdir", HOME]
        if self.as_root:
            return [*cmd, "--", "setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", *argv]
        return [*cmd, "--unshare-user", "--uid", str(USER_MODE_UID), "--gid", str(USER_MODE_UID),
                "--disable-userns", "--cap-drop", "ALL", "--", *argv]

    def _limit(self) -> None:
        """In the child before exec: address space and process count (inherited by the sandbox)."""
        memory = int(self.limits.memory_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if not self.unsafe:
            tasks = _tasks_of(self.uid) + self.limits.processes
            resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))

    def run(self, argv: list[str], env: dict[str, str], stdin: bytes = b"",
            max_report_bytes: int = 4 * 2**20) -> Outcome:
        """Run ``argv`` sandboxed with ``env`` and ``stdin``. The program writes its report to the
        fd whose number is appended to ``argv``. Returns when the sandbox is gone (wall limit
        included)."""
        report_r, report_w = os.pipe()
        started = time.monotonic()
        try:
            process = subprocess.Popen(self.command([*argv, str(report_w)]), env=env,
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       pass_fds=(report_w,), start_new_session=True, preexec_fn=self._limit)
        finally:
            os.close(report_w)
        report, stderr_head = bytearray(), bytearray()
        readers = [threading.Thread(target=_drain, args=(report_r, report, max_report_bytes), daemon=True),
                   threading.Thread(target=_drain, args=(process.stderr.fileno(), stderr_head, 4096), daemon=True),
                   threading.Thread(target=_feed, args=(process.stdin, stdin), daemon=True)]
        for reader in readers:
            reader.start()
        timed_out = False
        try:
            process.wait(timeout=self.limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(process)
        for reader in readers:
            reader.join(timeout=10)
        os.close(report_r)
        process.stderr.close()
        return Outcome(None if timed_out else process.returncode, bytes(report), bytes(stderr_head), timed_out,
                       time.monotonic() - started)


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
