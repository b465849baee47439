"""The wheelhouse folder on disk, replaced whole.

A new wheelhouse is assembled in a staging folder beside the old one and swapped in by renames
only when complete; a run that dies half-way is undone by `recover` at the start of the next. A
build that fails puts the locks it re-made back, unless its wheelhouse was already swapped in.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from wheelferry.core.errors import BuildError, StorageError
from wheelferry.core.files import read_files, restore_files
from wheelferry.everywhere.folderswap import OLD_MARK, STAGING_MARK, staging_folder, swap_aside
from wheelferry.project import layout as project
from wheelferry.project.manifest import MANIFEST, read_manifest
from wheelferry.project.options import Options


def is_mount_point(folder: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> bool:
    """Whether `folder` is a mount point, a bind mount on the same file system included (which
    os.path.ismount cannot tell: its device is its parent's); Linux lists every mount point in
    mountinfo's fifth field, spaces escaped as \\040."""
    if os.path.ismount(folder):
        return True
    try:
        listed = mountinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    target = str(folder.resolve())
    return any(len(fields) > 4 and fields[4].replace("\\040", " ") == target
               for fields in (line.split() for line in listed.splitlines()))


def check_writable(wheelhouse: Path) -> None:
    """Fail early, before any work, when the wheelhouse cannot be replaced: its parent must be
    writable (staging and the swap happen there) and it must not be a mount point."""
    parent = wheelhouse.parent
    if not parent.is_dir():
        raise StorageError(f"the wheelhouse's folder {parent} does not exist.",
                           hint="Create it or choose another 'wheelhouse'.")
    for folder in (parent, wheelhouse):
        if folder.exists() and not os.access(folder, os.W_OK):
            raise StorageError(
                f"{folder} is read-only (or not writable by you).",
                hint="wheelferry replaces the wheelhouse whole: make it and its folder "
                "writable, or choose another 'wheelhouse'. Nothing was changed.",
            )
    if wheelhouse.is_dir() and is_mount_point(wheelhouse):
        raise StorageError(
            f"{wheelhouse} is a mount point, which cannot be replaced whole.",
            hint="Point 'wheelhouse' at a folder inside it.",
        )
    if wheelhouse.is_dir() and any(wheelhouse.iterdir()) and not (wheelhouse / MANIFEST).is_file():
        raise BuildError(
            f"{wheelhouse} holds files but no {MANIFEST}: it is not a wheelhouse that wheelferry "
            "built, and a build replaces the wheelhouse folder whole.",
            hint="Point 'wheelhouse' at a new or empty folder (or move those files away).",
        )


def recover(wheelhouse: Path) -> None:
    """Undo what an interrupted run left: put a wheelhouse that was moved aside back, and remove
    staging folders. Called while holding the project's run lock."""
    parent = wheelhouse.parent
    if not parent.is_dir():
        return
    prefix = f".{wheelhouse.name}"
    for path in parent.iterdir():
        if not path.name.startswith(prefix):
            continue
        if path.name.startswith(prefix + OLD_MARK):
            if not wheelhouse.exists():
                os.rename(path, wheelhouse)
            else:
                shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(prefix + STAGING_MARK):
            shutil.rmtree(path, ignore_errors=True)


def swap_in(staging: Path, wheelhouse: Path) -> None:
    """Replace the wheelhouse by the staging folder; on any failure the old one stays."""
    old = swap_aside(staging, wheelhouse)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def place(source: Path, destination: Path) -> None:
    """Put a reused wheel into the staging folder: a hard link when possible (no copy)."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


@contextlib.contextmanager
def staged(wheelhouse: Path) -> Iterator[Path]:
    """A staging folder that is removed unless it was swapped in."""
    try:
        path = staging_folder(wheelhouse)
    except OSError as exc:
        raise BuildError(f"cannot create a staging folder beside {wheelhouse} ({exc}).",
                         hint="Check that its parent folder exists and is writable.") from exc
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def matches_locks(options: Options) -> bool:
    """Whether the wheelhouse on disk was built from the locks on disk (the build lock too)."""
    manifest = read_manifest(options.wheelhouse)
    return manifest is not None and dict(manifest.locks) == project.lock_sums(options)


@contextlib.contextmanager
def locks_kept_with_wheelhouse(options: Options) -> Iterator[None]:
    """Within the block, locks may be re-made and a new wheelhouse swapped in. If the block
    fails, the locks are put back as they were, beside the unchanged wheelhouse, unless the
    new wheelhouse (made from the new locks) was already swapped in."""
    previous = read_files(project.lock_files(options))
    try:
        yield
    except BaseException:
        if not matches_locks(options):
            restore_files(previous)
        raise
