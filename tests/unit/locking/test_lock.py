"""lock planning: which locks are stale and why, from the fingerprint of their inputs and target
kept in each lock's first line; every input checked before anything runs. No engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support import (
    LEGACY_OVERRIDE,
    LOCK_BODY,
    TARGET_IMAGE,
    TARGET_PYTHON,
    project_options,
    write_fresh_lock,
    write_project,
)

from wheelferry.core.errors import LockError
from wheelferry.locking import notes
from wheelferry.locking.freshness import build_fingerprint, header_line
from wheelferry.locking.lock import plan_locks
from wheelferry.locking.outcome import parse as parse_outcome
from wheelferry.locking.project import read_project
from wheelferry.project.config import load_options
from wheelferry.project.layout import build_lock_path
from wheelferry.project.options import Options


def reasons(options: Options, **flags: Any) -> dict[str, str]:
    plan = plan_locks(read_project(options), **flags)
    return {path.name: reason for path, reason in plan.reasons}


def test_a_missing_lock_is_stale(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "wferryfx-pure\n"})
    plan = plan_locks(read_project(options))
    assert not plan.up_to_date
    assert reasons(options) == {"base.txt": "no lock yet"}


def test_a_lock_with_its_inputs_fingerprint_is_fresh(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "wferryfx-needs-pure\n"})
    write_fresh_lock(options, "base.in")
    plan = plan_locks(read_project(options))
    assert plan.up_to_date
    assert plan.stale == ()


def test_a_lock_without_a_wheelferry_header_is_stale(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "wferryfx-needs-pure\n"})
    (options.project_dir / "requirements" / "base.txt").write_text(LOCK_BODY)
    assert reasons(options) == {"base.txt": "the lock was not made by wheelferry"}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"python": "3.11", "image": "python:3.11"},
         "the lock was made for python 3.11 in python:3.11"),
        ({"image": "registry.example/python:3.10-custom"},
         f"the lock was made for python {TARGET_PYTHON} in registry.example/python:3.10-custom"),
    ],
)
def test_a_lock_for_another_python_or_image_is_stale(
        tmp_path: Path, settings: dict[str, str], expected: str) -> None:
    made_for = project_options(tmp_path, {"base.in": "wferryfx-needs-pure\n"}, **settings)
    write_fresh_lock(made_for, "base.in")
    assert plan_locks(read_project(made_for)).up_to_date
    # python 3.10 in python:3.10
    now = project_options(tmp_path, {"base.in": "wferryfx-needs-pure\n"})
    assert (now.target.python, now.target.image) == (TARGET_PYTHON, TARGET_IMAGE)
    assert reasons(now) == {"base.txt": expected}


def test_a_changed_input_makes_its_lock_stale(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "wferryfx-needs-pure\n"})
    write_fresh_lock(options, "base.in")
    (options.project_dir / "requirements" / "base.in").write_text(
        "wferryfx-needs-pure\nwferryfx-cext\n")
    assert reasons(options) == {"base.txt": "base.in or what it references changed"}


def test_changed_index_settings_or_overrides_make_the_lock_stale(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "wferryfx-legacy\n"})
    write_fresh_lock(options, "base.in")
    with_override = project_options(tmp_path, {"base.in": "wferryfx-legacy\n"},
                                    overrides=LEGACY_OVERRIDE)
    assert reasons(with_override) == {
        "base.txt": "base.in or what it references changed",
        # The overrides' build requirements get their own lock, made with the project's.
        "wheelferry-build.txt": "a lock it is constrained by is being re-made"}
    other_index = project_options(tmp_path, {"base.in": "wferryfx-legacy\n"},
                                  **{"index-url": "https://example.org/simple/"})
    assert "base.txt" in reasons(other_index)


def test_upgrade_flags_make_fresh_locks_stale(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "wferryfx-needs-pure\n"})
    write_fresh_lock(options, "base.in")
    assert plan_locks(read_project(options)).up_to_date
    assert reasons(options, upgrade=True) == {"base.txt": "--upgrade"}
    plan = plan_locks(read_project(options), upgrade_packages=["wferryfx-pure"])
    assert [e.lock.name for e in plan.stale] == ["base.txt"]
    assert plan.upgrade_packages == ("wferryfx-pure",)
    assert dict((p.name, r) for p, r in plan.reasons) == {"base.txt": "--upgrade-package"}


def test_a_later_input_constrained_by_a_stale_lock_is_stale_too(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "wferryfx-needs-pure\n",
                                         "dev.in": "-c base.txt\nwferryfx-cext\n"})
    write_fresh_lock(options, "base.in")
    write_fresh_lock(options, "dev.in", body="")
    assert plan_locks(read_project(options)).up_to_date

    (options.project_dir / "requirements" / "base.in").write_text("wferryfx-pure\n")
    assert reasons(options) == {
        "base.txt": "base.in or what it references changed",
        "dev.txt": "a lock it references is being re-made",
    }


def test_a_later_input_is_stale_when_the_lock_it_references_changed(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "wferryfx-needs-pure\n",
                                         "dev.in": "-c base.txt\nwferryfx-cext\n"})
    write_fresh_lock(options, "base.in")
    write_fresh_lock(options, "dev.in", body="")
    # base.txt re-made by hand (say, by another tool): dev.txt was resolved against the old one.
    write_fresh_lock(options, "base.in",
                     body=LOCK_BODY.replace("needs-pure==1.0", "needs-pure==1.1"))
    assert reasons(options) == {"dev.txt": "dev.in or what it references changed"}


def test_the_build_lock_is_fresh_until_the_overrides_or_the_locks_change(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "wferryfx-legacy\n"},
                              overrides=LEGACY_OVERRIDE)
    write_fresh_lock(options, "base.in")
    build_lock = build_lock_path(options)
    assert build_lock is not None
    assert build_lock.parent == options.requirements[0].parent
    assert reasons(options) == {"wheelferry-build.txt": "no build lock yet"}
    project = read_project(options)
    build_lock.write_text(header_line(project, build_fingerprint(project, {})) + LOCK_BODY)
    assert plan_locks(read_project(options)).up_to_date
    # Another build requirement, or another lock to be constrained by: re-made.
    more = project_options(tmp_path, {"base.in": "wferryfx-legacy\n"}, overrides={
        "wferryfx-legacy": {"build-requires": ["wferryfx-buildhelper", "cython"],
                            "no-build-isolation": True}})
    assert "wheelferry-build.txt" in reasons(more)
    write_fresh_lock(options, "base.in", LOCK_BODY + "# changed\n")
    assert reasons(options) == {"wheelferry-build.txt": "the overrides or the locks changed"}


def test_inputs_pulled_in_with_r_are_checked_too(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"base.in": "-r extra.in\nsix\n"})
    (project / "requirements" / "extra.in").write_text("-e ./src/mypkg\n")
    with pytest.raises(LockError) as caught:
        plan_locks(read_project(load_options(project)))
    assert "requirements/extra.in line 1" in caught.value.message


def test_the_user_is_told_which_dependencies_were_locked_as_of_the_pins_day() -> None:
    said = {"date": "2021-10-04", "capped": {"numpy": "1.21.2", "joblib": "1.1.0"},
            "because": "hdbscan 0.8.27 (2021-01-20); no older than Python 3.10's 2021-10-04"}
    report = parse_outcome({"ok": True, "as_of": {"requirements.in": said}})
    assert notes.after_lock(report.eras, {}, ()) == [
        "requirements.in pins old releases (the newest: hdbscan 0.8.27 (2021-01-20); no older "
        "than Python 3.10's 2021-10-04), so what it does not name is locked as of 2021-10-04: "
        "joblib 1.1.0, numpy 1.21.2. To take today's release of one of them, name it in "
        "requirements.in and build with --upgrade-package NAME."]
    failed = parse_outcome({"ok": True, "as_of": {"requirements.in": dict(
        said, capped={}, skipped="the resolver found no set of them that fits together")}})
    note = notes.era_note(*failed.eras[0])
    assert note is not None
    assert note.endswith(
        "where it can: that failed (the resolver found no set of them that fits together), so "
        "today's releases are locked.")
    # Nothing older than today's: nothing to tell.
    nothing = parse_outcome({"ok": True, "as_of": {"requirements.in": dict(said, capped={})}})
    assert notes.after_lock(nothing.eras, {}, ()) == []


def test_the_lock_containers_report_is_checked_value_by_value() -> None:
    report = parse_outcome({"ok": True, "build_lock": True,
                            "discovered": {"pyradiomics": ["numpy"]}})
    assert report.discovered == (("pyradiomics", ("numpy",)),)
    assert report.build_lock
    assert parse_outcome({"ok": False, "failed": "requirements/base.in"}).failed \
        == "requirements/base.in"
    for bad in ({"ok": "yes"}, {"ok": True, "discovered": {"x": "numpy"}},
                {"ok": True, "as_of": {"base.in": {"because": "x"}}},
                {"ok": True, "as_of": {"base.in": {"date": "2021-10-04", "capped": ["numpy"]}}},
                {"ok": True, "failed": 3}):
        with pytest.raises(LockError, match="malformed"):
            parse_outcome(bad)
