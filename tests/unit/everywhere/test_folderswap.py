"""folderswap: a folder replaced whole by one assembled beside it, by two renames that an
interruption undoes (the host's wheelhouse, and the platform's install dir where the kernel
offers no atomic exchange)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wheelferry.everywhere.folderswap import OLD_MARK, STAGING_MARK, staging_folder, swap_aside


def folder_with(path: Path, name: str) -> Path:
    path.mkdir(parents=True)
    (path / name).write_bytes(name.encode())
    return path


def test_staging_sits_beside_the_folder_its_parents_made(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "my-tools"
    staging = staging_folder(folder)
    assert staging.parent == folder.parent
    assert staging.name.startswith(f".my-tools{STAGING_MARK}")
    assert os.listdir(staging) == []
    assert staging_folder(folder) != staging


def test_the_folder_is_replaced_and_the_old_one_handed_back(tmp_path: Path) -> None:
    folder = folder_with(tmp_path / "my-tools", "old.whl")
    old = swap_aside(folder_with(tmp_path / "staging", "new.whl"), folder)
    assert os.listdir(folder) == ["new.whl"]
    assert old is not None
    assert old.name.startswith(f".my-tools{OLD_MARK}")
    assert os.listdir(old) == ["old.whl"]
    assert swap_aside(folder_with(tmp_path / "s", "x.whl"), tmp_path / "fresh") is None
    assert os.listdir(tmp_path / "fresh") == ["x.whl"]


def test_a_failed_second_rename_puts_the_folder_back(tmp_path: Path) -> None:
    # (An interruption right between the renames: test_platformdir.py, through swap.)
    folder = folder_with(tmp_path / "my-tools", "old.whl")
    with pytest.raises(FileNotFoundError):
        swap_aside(tmp_path / "no-staging", folder)
    assert os.listdir(folder) == ["old.whl"]
    assert os.listdir(tmp_path) == ["my-tools"]
