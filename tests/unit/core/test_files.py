"""files: whole-file writes (beside, then renamed over), several files replaced all or none
(a file's sha256: tests/unit/everywhere/test_checksums.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from wheelferry.core.files import (
    read_files,
    read_json_object,
    remember_json,
    replace_all,
    replace_file,
    restore_files,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_replace_file_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    script = tmp_path / "init.sh"
    script.write_text("#!/bin/bash\necho old\n")
    script.chmod(0o750)
    replace_file(script, b"#!/bin/bash\necho new\n", new_mode=0o600)
    assert script.read_bytes() == b"#!/bin/bash\necho new\n"
    assert mode(script) == 0o750
    # The new bytes went in by a rename: nothing is left beside the file.
    assert [p.name for p in tmp_path.iterdir()] == ["init.sh"]


def test_replace_file_gives_a_new_file_the_mode_asked_for(tmp_path: Path) -> None:
    script = tmp_path / "init.sh"
    replace_file(script, b"echo\n", new_mode=0o755)
    assert script.read_bytes() == b"echo\n"
    assert mode(script) == 0o755


def test_a_failed_replace_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    blocked = tmp_path / "dev.txt"
    blocked.mkdir()
    with pytest.raises(IsADirectoryError):
        replace_file(blocked, b"new\n")
    assert blocked.is_dir()
    assert [p.name for p in tmp_path.iterdir()] == ["dev.txt"]


def test_locks_are_replaced_all_or_none(tmp_path: Path) -> None:
    first = tmp_path / "base.txt"
    first.write_bytes(b"old base\n")
    blocked = tmp_path / "dev.txt"
    blocked.mkdir()  # replacing a folder with a file fails half-way through the set
    with pytest.raises(IsADirectoryError):
        replace_all({first: b"new base\n", blocked: b"new dev\n"})
    assert first.read_bytes() == b"old base\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.txt", "dev.txt"]


def test_a_file_that_did_not_exist_is_removed_again(tmp_path: Path) -> None:
    kept, new = tmp_path / "base.txt", tmp_path / "wheelferry-build.txt"
    kept.write_bytes(b"base\n")
    before = read_files([kept, new])
    assert before == {kept: b"base\n", new: None}
    replace_all({kept: b"changed\n", new: b"build lock\n"})
    restore_files(before)
    assert kept.read_bytes() == b"base\n"
    assert not new.exists()


def test_a_cache_record_is_written_whole_and_an_unwritable_cache_is_no_error(
        tmp_path: Path) -> None:
    record = tmp_path / "cache" / "probes" / "k.json"
    remember_json(record, {"version": "3.10.13", "tags": ["cp310-cp310-linux_x86_64"]})
    assert read_json_object(record) == {"version": "3.10.13", "tags": ["cp310-cp310-linux_x86_64"]}
    assert [path.name for path in record.parent.iterdir()] == ["k.json"]  # no temporary left
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    remember_json(blocked / "probes" / "k.json", {"any": 1})  # only costs time next run
    assert blocked.read_text() == "not a folder"
