"""Pure checks of safeguards: a folder that is not a wheelhouse is never replaced, locks are
replaced all or none, nested inputs are checked, non-UTF-8 inputs give named errors, and index
credentials never reach the toolchain image's command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support import write_project

from wheelferry import wheelhouse as wh
from wheelferry.config import load_options
from wheelferry.containers import toolchain_pip_conf, toolchain_spec
from wheelferry.engine import ImageInfo
from wheelferry.errors import BuildError, LockError
from wheelferry.files import replace_all
from wheelferry.lock import plan_locks
from wheelferry.requirements import read_lock


def test_a_folder_that_is_not_a_wheelhouse_is_never_replaced(tmp_path: Path) -> None:
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "thesis.tex").write_text("years of work")
    with pytest.raises(BuildError, match="not a wheelhouse that wheelferry built"):
        wh.check_writable(documents)
    (tmp_path / "empty").mkdir()
    wh.check_writable(tmp_path / "empty")
    wh.check_writable(tmp_path / "not-yet")


def test_locks_are_replaced_all_or_none(tmp_path: Path) -> None:
    first = tmp_path / "base.txt"
    first.write_bytes(b"old base\n")
    blocked = tmp_path / "dev.txt"
    blocked.mkdir()  # replacing a folder with a file fails half-way through the set
    with pytest.raises(IsADirectoryError):
        replace_all({first: b"new base\n", blocked: b"new dev\n"})
    assert first.read_bytes() == b"old base\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.txt", "dev.txt"]


def test_inputs_pulled_in_with_r_are_checked_too(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"base.in": "-r extra.in\nsix\n"})
    (project / "requirements" / "extra.in").write_text("-e ./src/mypkg\n")
    with pytest.raises(LockError) as caught:
        plan_locks(load_options(project))
    assert "requirements/extra.in line 1" in caught.value.message


def test_non_utf8_input_and_lock_give_named_errors(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"base.in": "six\n"})
    source = project / "requirements" / "base.in"
    source.write_bytes("# M\u00fcller\nsix\n".encode("cp1252"))
    with pytest.raises(LockError, match=r"base\.in is not UTF-8"):
        plan_locks(load_options(project))
    lock = project / "requirements" / "base.txt"
    lock.write_bytes("# M\u00fcller\n".encode("cp1252"))
    with pytest.raises(LockError, match=r"base\.txt is not UTF-8"):
        read_lock(lock)


def test_index_credentials_stay_in_the_mounted_pip_conf(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"base.in": "six\n"},
                            **{"index-url": "https://user:s3cret@mirror.example/simple",
                               "ca-bundle": "none"})
    options = load_options(project)
    conf = toolchain_pip_conf(options)
    assert "index-url = https://user:s3cret@mirror.example/simple" in conf
    base = ImageInfo(reference="python:3.10", id="sha256:" + "0" * 64, digest="d")
    spec = toolchain_spec(options, base.id, tmp_path / "settings",
                          {"pip": "24.0", "pip-tools": "7.4.1"})
    assert "s3cret" not in " ".join(spec.command)
    assert all("s3cret" not in value for _, value in spec.environment)
    assert any(m.target == "/wheelferry/settings" and m.read_only for m in spec.mounts)
