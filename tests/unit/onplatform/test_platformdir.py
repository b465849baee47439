"""platformdir.py: the install dir on the platform is swapped whole (an atomic exchange, or two
renames that an interruption undoes), files are checked as they are written, kept wheels are
hard-linked or copied and checked, init.sh is written beside and renamed."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from wheelferry.everywhere.folderswap import OLD_MARK, staging_folder
from wheelferry.onplatform import platformdir
from wheelferry.onplatform.platformdir import Refused


def folder_with(path: Path, name: str, data: bytes) -> Path:
    path.mkdir(parents=True)
    (path / name).write_bytes(data)
    return path


def test_exchange_swaps_two_folders_in_one_step(tmp_path: Path) -> None:
    first = folder_with(tmp_path / "a", "one", b"1")
    second = folder_with(tmp_path / "b", "two", b"2")
    if not platformdir.exchange(first, second):
        pytest.skip("this kernel or file system has no RENAME_EXCHANGE")
    assert os.listdir(first) == ["two"]
    assert os.listdir(second) == ["one"]


@pytest.mark.parametrize("atomic", [True, False], ids=["exchange", "two renames"])
def test_swap_puts_the_new_wheelhouse_in_place_whole(tmp_path: Path, atomic: bool,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    if not atomic:
        monkeypatch.setattr(platformdir, "exchange", lambda first, second: False)
    folder = folder_with(tmp_path / "my-tools", "old.whl", b"old")
    staging = staging_folder(folder)
    (staging / "new.whl").write_bytes(b"new")
    previous = platformdir.swap(staging, folder)
    assert os.listdir(folder) == ["new.whl"]
    assert previous is not None
    assert os.listdir(previous) == ["old.whl"]
    assert (previous == staging) is atomic
    assert platformdir.swap(folder_with(tmp_path / "s", "x.whl", b"x"),
                            tmp_path / "fresh") is None
    assert os.listdir(tmp_path / "fresh") == ["x.whl"]


def test_an_interrupted_swap_puts_the_old_wheelhouse_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platformdir, "exchange", lambda first, second: False)
    folder = folder_with(tmp_path / "my-tools", "old.whl", b"old")
    staging = folder_with(tmp_path / ".my-tools.wheelferry-staging-x", "new.whl", b"new")
    real_rename = os.rename

    def interrupted(source: Path, destination: Path) -> None:
        real_rename(source, destination)
        if OLD_MARK in Path(destination).name:
            raise KeyboardInterrupt  # right between the two renames

    monkeypatch.setattr(os, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        platformdir.swap(staging, folder)
    assert os.listdir(folder) == ["old.whl"]


def test_current_wheelhouse_finds_one_left_aside(tmp_path: Path) -> None:
    folder = tmp_path / "my-tools"
    assert platformdir.current_wheelhouse(folder) is None
    aside = folder_with(tmp_path / f".my-tools{OLD_MARK}abc", "old.whl", b"old")
    assert platformdir.current_wheelhouse(folder) == aside
    folder.mkdir()
    assert platformdir.current_wheelhouse(folder) == folder


def test_write_checked_refuses_bytes_that_do_not_match(tmp_path: Path) -> None:
    good = hashlib.sha256(b"wheel").hexdigest()
    platformdir.write_checked(io.BytesIO(b"wheel"), tmp_path / "a.whl", good)
    assert (tmp_path / "a.whl").read_bytes() == b"wheel"
    with pytest.raises(Refused, match=r"b\.whl does not match SHA256SUMS"):
        platformdir.write_checked(io.BytesIO(b"wheeI"), tmp_path / "b.whl", good)


def test_kept_wheels_are_hard_linked_or_copied_and_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = folder_with(tmp_path / "old", "a.whl", b"kept") / "a.whl"
    digest = hashlib.sha256(b"kept").hexdigest()
    assert platformdir.place_kept(source, tmp_path / "linked.whl", digest) is True
    assert (tmp_path / "linked.whl").stat().st_ino == source.stat().st_ino

    def no_links(source: Path, destination: Path) -> None:
        raise PermissionError("no hard links on this file system")

    monkeypatch.setattr(os, "link", no_links)
    assert platformdir.place_kept(source, tmp_path / "copied.whl", digest) is False
    assert (tmp_path / "copied.whl").read_bytes() == b"kept"
    with pytest.raises(Refused):
        platformdir.place_kept(source, tmp_path / "bad.whl", "0" * 64)


def test_write_file_keeps_the_mode_of_an_existing_file(tmp_path: Path) -> None:
    new = tmp_path / "init.sh"
    platformdir.write_file(new, b"echo new\n")
    assert new.stat().st_mode & 0o777 == 0o755
    new.chmod(0o700)
    platformdir.write_file(new, b"echo again\n")
    assert new.read_bytes() == b"echo again\n"
    assert new.stat().st_mode & 0o777 == 0o700
    assert os.listdir(tmp_path) == ["init.sh"]
