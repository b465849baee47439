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
    # No overrides and nothing found by locking: no build lock in use (its place is known).
    assert project.build_lock_path(options) == root / "requirements" / "wheelferry-build.txt"
    assert not project.uses_build_lock(options)
    assert project.lock_files(options) == [e.lock for e in project.lock_entries(options)]


def test_what_locking_found_is_read_from_the_build_lock_as_overrides(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"base.in": "pyradiomics\n"}, **{"ca-bundle": "none"})
    options = load_options(root)
    assert not project.uses_build_lock(options)
    assert project.lock_files(options) == [root / "requirements" / "base.txt"]
    lines = project.discovered_lines({"PyRadiomics": ["numpy"], "other": ["cython", "numpy"]})
    project.build_lock_path(options).write_text(
        "# wheelferry-lock: python=3.10 image=python:3.10 fingerprint=x\n" + lines
        + "numpy==2.2.6 --hash=sha256:" + "0" * 64 + "\n")
    assert project.discovered(options) == {"pyradiomics": ("numpy",),
                                           "other": ("cython", "numpy")}
    override = project.override_for(options, "pyRadiomics")
    assert override is not None
    assert override.no_build_isolation
    assert [str(r) for r in override.build_requires] == ["numpy"]
    assert options.build.override_for("pyradiomics") is None  # not configured: found
    assert project.uses_build_lock(options)
    assert project.lock_files(options)[-1] == project.build_lock_path(options)


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
