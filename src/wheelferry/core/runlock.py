"""One wheelferry run per project at a time.

A lock on .wheelferry/run.lock (the `filelock` library: flock on Linux and macOS, msvcrt on
Windows) that the operating system releases when its holder dies, so a run that was killed never
blocks the next one. Who holds it is written beside it, for the message a second run gets.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from wheelferry.core.errors import BusyError

# Scratch folders of runs, by prefix: removed by the next run that holds the lock.
SCRATCH_PREFIXES = ("lock-", "verify-", "toolchain-", "standin-")


@contextmanager
def project_run_lock(state_dir: Path, *, command: str) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(state_dir / "run.lock", timeout=0)
    holder = state_dir / "run.holder"
    try:
        lock.acquire()
    except filelock.Timeout:
        try:
            who = holder.read_text(encoding="utf-8").strip() or "another run"
        except OSError:
            who = "another run"
        raise BusyError(
            f"another wheelferry run is working on {state_dir.parent} ({who}).",
            hint="Wait for it to finish, or stop it; a run that was killed releases the "
            "lock by itself.",
        ) from None
    try:
        holder.write_bytes(f"pid {os.getpid()}: wheelferry {command}\n".encode())
        clear_leftovers(state_dir)
        yield
    finally:
        lock.release()


def clear_leftovers(state_dir: Path) -> None:
    """Remove the scratch folders of runs that were killed before they could clean up (called
    while holding the run lock, so no live run owns them)."""
    if not state_dir.is_dir():
        return
    for path in state_dir.iterdir():
        if path.is_dir() and path.name.startswith(SCRATCH_PREFIXES):
            shutil.rmtree(path, ignore_errors=True)
