"""project: where a project's files live."""

from __future__ import annotations

from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

import pytest
from tests.support import write_project

from wheelferry.project import layout as project
from wheelferry.project.config import load_options


def test_each_input_is_locked_beside_it_and_state_stays_in_the_project(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"base.in": "six\n", "extra.in": "-c base.txt\n"},
                         **{"ca-bundle": "none"})
    options = load_options(root)
    assert project.lock_path(root / "requirements.in") == root / "requirements.txt"
    assert [e.lock for e in project.lock_entries(options)] == [
        root / "requirements" / "base.txt", root / "requirements" / "extra.txt"]
    assert project.state_dir(options) == root / ".wheelferry"
    assert project.init_script_path(options) == root / "init.sh"
    # No overrides and no build lock: no build lock in use (its place is known).
    assert project.build_lock_path(options) == root / "requirements" / "wheelferry-build.txt"
    assert project.lock_files(options) == [e.lock for e in project.lock_entries(options)]


@pytest.mark.parametrize(("path", "root", "expected"), [
    (PureWindowsPath(r"C:\Users\ana\proj\requirements\base.in"),
     PureWindowsPath(r"C:\Users\ana\proj"), "requirements/base.in"),
    (PureWindowsPath(r"C:\Users\ana\proj\requirements\wheelferry-build.txt"),
     PureWindowsPath("C:/Users/ana/proj"), "requirements/wheelferry-build.txt"),
    (PurePosixPath("/home/ana/proj/requirements/base.in"), PurePosixPath("/home/ana/proj"),
     "requirements/base.in"),
])
def test_paths_stored_and_handed_to_containers_are_posix_on_any_host(
        path: PurePath, root: PurePath, expected: str) -> None:
    assert project.posix_relative(path, root) == expected
