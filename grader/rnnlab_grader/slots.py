"""Sandbox slots, one per submission being graded at once on this machine.

As root a sandboxed run gets the uid ``UID_BASE + slot`` (``sandbox.Sandbox.uid``): two runs at
once must never share one, or one submission could signal the other's processes or count
against its process limit. Every grader on the machine (the threads of ``--jobs``, Dask
workers, two instructors' runs) takes its slot here, under an exclusive ``flock`` on a file
per slot, so slots never collide whoever started the run; the kernel drops the lock when
the holder exits, even when it is killed.
"""
from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MAX_SLOTS = 512


def _lock_dir() -> Path:
    directory = Path(tempfile.gettempdir()) / f"rnnlab-grade-slots-{os.getuid()}"
    directory.mkdir(mode=0o700, exist_ok=True)
    if directory.is_symlink() or directory.stat().st_uid != os.getuid():
        raise RuntimeError(f"{directory} is not this user's own folder: remove it and grade again")
    return directory


@contextmanager
def machine_slot(first: int = 0) -> Iterator[int]:
    """Hold the lowest free slot at or above ``first`` on this machine until the block ends."""
    directory = _lock_dir()
    for slot in range(first, first + MAX_SLOTS):
        handle = os.open(directory / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            continue
        try:
            yield slot
        finally:
            os.close(handle)  # closing drops the lock
        return
    raise RuntimeError(f"all {MAX_SLOTS} sandbox slots from {first} are taken on this machine")
