"""A folder replaced whole by one assembled beside it: the staging folder, and the swap by two
renames that an interruption undoes. The host's wheelhouse and the platform's install dir (a
bundle's program) are replaced so, and an interrupted run's leftovers are told by these marks."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

STAGING_MARK = ".wheelferry-staging-"
OLD_MARK = ".wheelferry-old-"


def staging_folder(folder: Path) -> Path:
    """A new staging folder beside `folder` (its parents made first)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}{STAGING_MARK}{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    return staging


def swap_aside(staging: Path, folder: Path) -> Path | None:
    """Put `staging` in `folder`'s place: the folder renamed aside (OLD_MARK), then staging
    renamed into its place; on any failure or interruption the folder is put back. Returns
    where the previous folder now is (the caller removes it), None when there was none."""
    if not folder.exists():
        os.rename(staging, folder)
        return None
    old = folder.parent / f".{folder.name}{OLD_MARK}{uuid.uuid4().hex[:12]}"
    try:
        os.rename(folder, old)
        os.rename(staging, folder)
    except BaseException:
        # Judge by the file system, not by how far the code got: an interruption can land
        # after a rename took effect but before the next statement.
        if old.exists() and not folder.exists():
            os.rename(old, folder)
        raise
    return old
