"""The install dir on the platform, for a bundle's program (unbundle.py): files written and
checked against their sha256 as they are written, kept wheels hard-linked, the new wheelhouse
swapped in whole, what an interrupted run left beside it, and init.sh written beside and renamed.

Like unbundle.py it runs in the platform's python3 (3.8 or later, the standard library only,
nothing of wheelferry imported): bundlescript.py embeds this module's source ahead of
unbundle.py's in every bundle, after the pieces of everywhere/ they import.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import IO, Any

from wheelferry.everywhere.folderswap import OLD_MARK, swap_aside

SUMS = "SHA256SUMS"
CHUNK = 1 << 20


class Refused(Exception):
    """A check failed; nothing was changed (or what was begun was undone)."""


def say(message: str) -> None:
    print("wheelferry-bundle: " + message, file=sys.stderr, flush=True)


def leftovers(folder: Path, mark: str) -> list[Path]:
    """Folders an interrupted run left beside the install dir (staging, or the old one aside)."""
    prefix = "." + folder.name + mark
    try:
        return sorted(p for p in folder.parent.iterdir() if p.name.startswith(prefix))
    except OSError:
        return []


def current_wheelhouse(folder: Path) -> Path | None:
    """The wheelhouse at the install dir; when a run died between the two renames of its swap,
    the one it had moved aside."""
    if folder.is_dir():
        return folder
    aside = sorted(leftovers(folder, OLD_MARK), key=lambda path: path.stat().st_mtime)
    return aside[-1] if aside else None


def write_checked(source: IO[bytes], destination: Path, expected: str) -> None:
    digest = hashlib.sha256()
    with destination.open("xb") as out:
        for block in iter(lambda: source.read(CHUNK), b""):
            digest.update(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != expected:
        raise Refused(f"{destination.name} does not match {SUMS}")


def place_kept(source: Path, destination: Path, expected: str) -> bool:
    """A wheel the delta keeps, into staging: a hard link (True), else a checked copy."""
    try:
        os.link(source, destination)
        return True
    except OSError:
        with source.open("rb") as handle:
            write_checked(handle, destination, expected)
        return False


def exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux's renameat2 with RENAME_EXCHANGE); False where the
    system or the file system cannot, and nothing was changed."""
    try:
        import ctypes

        renameat2: Any = ctypes.CDLL(None, use_errno=True).renameat2
    except (ImportError, OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done: int = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second),
                          rename_exchange)
    return done == 0


def swap(staging: Path, folder: Path) -> Path | None:
    """Put the staging folder in the install dir's place whole (one exchange where the system
    offers it, else swap_aside's two renames); returns where the previous wheelhouse now is (to
    be removed), None when there was none."""
    if not folder.exists():
        os.rename(staging, folder)
        return None
    if exchange(staging, folder):
        return staging
    return swap_aside(staging, folder)


def write_file(path: Path, data: bytes) -> None:
    """Write beside and rename over; an existing file keeps its mode, a new one is 0755."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with temporary.open("xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            shutil.copymode(path, temporary)
        else:
            os.chmod(temporary, 0o755)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
