"""wheelhouse: the folder on disk, replaced whole: staging beside it, the swap, the recovery of
an interrupted run, and never replacing a folder that is not a wheelhouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from wheelferry.core.errors import BuildError
from wheelferry.everywhere.folderswap import OLD_MARK, STAGING_MARK
from wheelferry.project import wheelhouse as wh
from wheelferry.project.manifest import MANIFEST


def a_wheelhouse(path: Path, marker: str) -> Path:
    path.mkdir()
    (path / MANIFEST).write_text("{}\n")
    (path / "marker.txt").write_text(marker)
    return path


def test_a_folder_that_is_not_a_wheelhouse_is_never_replaced(tmp_path: Path) -> None:
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "thesis.tex").write_text("years of work")
    with pytest.raises(BuildError, match="not a wheelhouse that wheelferry built"):
        wh.check_writable(documents)
    (tmp_path / "empty").mkdir()
    wh.check_writable(tmp_path / "empty")
    wh.check_writable(tmp_path / "not-yet")


def test_swap_in_replaces_the_wheelhouse_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    wheelhouse = a_wheelhouse(tmp_path / "wheelhouse", "old")
    with wh.staged(wheelhouse) as staging:
        assert staging.parent == tmp_path
        (staging / MANIFEST).write_text("{}\n")
        (staging / "marker.txt").write_text("new")
        wh.swap_in(staging, wheelhouse)
    assert (wheelhouse / "marker.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["wheelhouse"]


def test_a_staging_folder_is_removed_when_the_build_fails(tmp_path: Path) -> None:
    wheelhouse = a_wheelhouse(tmp_path / "wheelhouse", "old")

    def failing_build() -> None:
        with wh.staged(wheelhouse) as staging:
            (staging / "half.whl").write_bytes(b"half")
            raise RuntimeError("the build failed")

    with pytest.raises(RuntimeError, match="the build failed"):
        failing_build()
    assert [p.name for p in tmp_path.iterdir()] == ["wheelhouse"]
    assert (wheelhouse / "marker.txt").read_text() == "old"


def test_recover_puts_a_moved_aside_wheelhouse_back_and_removes_staging(tmp_path: Path) -> None:
    # What a run killed between the two renames of the swap leaves: the old wheelhouse moved
    # aside, the new one still in staging.
    a_wheelhouse(tmp_path / f".wheelhouse{OLD_MARK}0123456789ab", "old")
    a_wheelhouse(tmp_path / f".wheelhouse{STAGING_MARK}ba9876543210", "new")
    (tmp_path / "unrelated").mkdir()
    wheelhouse = tmp_path / "wheelhouse"
    wh.recover(wheelhouse)
    assert (wheelhouse / "marker.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unrelated", "wheelhouse"]


def test_recover_drops_a_moved_aside_copy_when_the_wheelhouse_is_in_place(tmp_path: Path) -> None:
    wheelhouse = a_wheelhouse(tmp_path / "wheelhouse", "new")
    a_wheelhouse(tmp_path / f".wheelhouse{OLD_MARK}0123456789ab", "old")
    wh.recover(wheelhouse)
    assert (wheelhouse / "marker.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["wheelhouse"]


def test_a_bind_mount_on_the_same_file_system_is_a_mount_point(tmp_path: Path) -> None:
    # os.path.ismount cannot tell (same device as its parent): mountinfo lists it.
    wheelhouse = tmp_path / "my wheels"
    wheelhouse.mkdir()
    mountinfo = tmp_path / "mountinfo"
    escaped = str(wheelhouse.resolve()).replace(" ", "\\040")
    mountinfo.write_text(f"36 35 98:0 /mnt1 / rw,noatime master:1 - ext3 /dev/root rw\n"
                         f"37 36 98:0 /src {escaped} rw,relatime shared:2 - ext4 /dev/sda1 rw\n")
    assert wh.is_mount_point(wheelhouse, mountinfo)
    assert not wh.is_mount_point(tmp_path, mountinfo)
    assert not wh.is_mount_point(wheelhouse, tmp_path / "absent")


def test_a_busy_folder_is_a_storage_error_with_its_way_out() -> None:
    import errno

    from wheelferry.core.errors import StorageError, from_os_error

    error = from_os_error(OSError(errno.EBUSY, "Device or resource busy", "/p/wheelhouse"))
    assert isinstance(error, StorageError)
    assert error.exit_code == 9
    assert "point 'wheelhouse' at a folder inside it" in str(error.hint)
