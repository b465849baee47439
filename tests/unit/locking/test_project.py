"""Project: the build lock read once per command, what locking found turned into overrides
beside the configured ones, one override_for, and a new Project after new locks are written."""

from __future__ import annotations

from pathlib import Path

from tests.support import LEGACY_OVERRIDE, write_project

from wheelferry.locking.project import read_project
from wheelferry.project import layout
from wheelferry.project.config import load_options
from wheelferry.project.options import Options

FOUND = layout.discovered_lines({"PyRadiomics": ["numpy"], "other": ["cython", "numpy"]})
BUILD_LOCK = ("# wheelferry-lock: python=3.10 image=python:3.10 fingerprint=x\n" + FOUND
              + "numpy==2.2.6 --hash=sha256:" + "0" * 64 + "\n")


def options_of(tmp_path: Path, **settings: object) -> Options:
    return load_options(write_project(tmp_path / "p", {"base.in": "pyradiomics\n"},
                                      **{"ca-bundle": "none"}, **settings))


def test_what_locking_found_is_read_from_the_build_lock_as_overrides(tmp_path: Path) -> None:
    options = options_of(tmp_path)
    before = read_project(options)
    assert not before.uses_build_lock
    assert before.build_pins == ()
    assert layout.lock_files(options) == [options.requirements[0].with_suffix(".txt")]
    layout.build_lock_path(options).write_text(BUILD_LOCK)
    project = read_project(options)
    assert project.found() == {"pyradiomics": ("numpy",), "other": ("cython", "numpy")}
    override = project.override_for("pyRadiomics")
    assert override is not None
    assert override.no_build_isolation
    assert [str(r) for r in override.build_requires] == ["numpy"]
    assert options.build.configured("pyradiomics") is None  # not configured: found
    assert project.found_unconfigured() == project.found()
    assert project.uses_build_lock
    assert [pin.name for pin in project.build_pins] == ["numpy"]
    assert layout.lock_files(options)[-1] == project.build_lock


def test_a_project_is_not_changed_by_a_lock_written_after_it(tmp_path: Path) -> None:
    """A command that writes the build lock must read the project again (lock.execute
    returns the new one): the one read before still describes the old build lock."""
    options = options_of(tmp_path)
    before = read_project(options)
    layout.build_lock_path(options).write_text(BUILD_LOCK)
    assert before.override_for("pyradiomics") is None
    assert before.build_pins == ()
    assert read_project(options).override_for("pyradiomics") is not None


def test_a_configured_override_wins_over_what_was_found(tmp_path: Path) -> None:
    options = options_of(tmp_path, overrides={
        "pyradiomics": {"build-requires": ["numpy<2"], "no-build-isolation": True},
        "other": {"system-packages": ["libyaml-dev"]},
        **LEGACY_OVERRIDE})
    layout.build_lock_path(options).write_text(BUILD_LOCK)
    project = read_project(options)
    radiomics = project.override_for("pyradiomics")
    assert radiomics is not None
    assert [str(r) for r in radiomics.build_requires] == ["numpy<2"]
    # Found, with the OS packages its configured override names.
    other = project.override_for("other")
    assert other is not None
    assert [str(r) for r in other.build_requires] == ["cython", "numpy"]
    assert other.system_packages == ("libyaml-dev",)
    # Both have a configured override: what was found for them is not recorded as found.
    assert project.found_unconfigured() == {}
    assert [o.name for o in project.overrides] == ["other", "pyradiomics", "wferryfx-legacy"]
