"""One wheelferry run per project at a time.

An advisory lock (flock) on .wheelferry/run.lock: the kernel releases it when the holder dies, so
a run that was killed never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wheelferry.errors import BusyError


@contextmanager
def project_run_lock(state_dir: Path, *, command: str) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "run.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another run"
            raise BusyError(
                f"another wheelferry run is working on {state_dir.parent} ({holder}).",
                hint="Wait for it to finish, or stop it; a run that was killed releases the "
                "lock by itself.",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}: wheelferry {command}\n".encode(), 0)
        clear_leftovers(state_dir)
        yield
    finally:
        os.close(fd)


def clear_leftovers(state_dir: Path) -> None:
    """Remove the scratch folders of runs that were killed before they could clean up (called
    while holding the run lock, so no live run owns them)."""
    if not state_dir.is_dir():
        return
    for path in state_dir.iterdir():
        scratch = ("lock-", "verify-", "toolchain-", "standin-")
        if path.is_dir() and path.name.startswith(scratch):
            shutil.rmtree(path, ignore_errors=True)
