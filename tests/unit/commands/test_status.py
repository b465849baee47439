"""status: where a project stands, from its files alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.support import write_project

from wheelferry.commands.status import project_status
from wheelferry.engine.client import ImageInfo
from wheelferry.locking.freshness import fingerprint, header_line
from wheelferry.locking.project import read_project
from wheelferry.project import layout as project
from wheelferry.project import manifest as mf
from wheelferry.project.config import load_options
from wheelferry.project.options import Options
from wheelferry.proving import state

HASH = "sha256:" + "2" * 64
IMAGE = ImageInfo(reference="python:3.10", id="sha256:" + "1" * 64, digest="d")


def make(tmp_path: Path, requirements: str = "wferryfx-pure\n") -> Options:
    return load_options(write_project(tmp_path / "p", {"base.in": requirements},
                                      **{"ca-bundle": "none"}))


def lock_freshly(options: Options) -> None:
    entry = project.lock_entries(options)[0]
    current = read_project(options)
    entry.lock.write_text(header_line(current, fingerprint(current, entry, {}))
                          + f"wferryfx-pure==1.0 --hash={HASH}\n")


def build_wheelhouse(options: Options, *, size: int = 3 * 1024 * 1024) -> None:
    options.wheelhouse.mkdir(exist_ok=True)
    manifest = mf.Manifest(
        target=mf.TargetRecord(python="3.10", version="3.10.14", image="python:3.10",
                               image_id=IMAGE.id, image_digest="d", tags=("py3-none-any",)),
        locks=tuple(sorted(project.lock_sums(options).items())),
        wheels=(mf.WheelRecord(name="wferryfx-pure", version="1.0",
                               file="wferryfx_pure-1.0-py3-none-any.whl", sha256="2" * 64,
                               size=size, origin="downloaded"),))
    mf.write_metadata(options.wheelhouse, manifest)


def rows(options: Options) -> dict[str, str]:
    return dict(project_status(options).rows())


def test_a_new_project_has_a_stale_lock_and_no_wheelhouse(tmp_path: Path) -> None:
    options = make(tmp_path)
    found = project_status(options)
    assert [(lock.path, lock.fresh, lock.reason) for lock in found.locks] == [
        ("requirements/base.txt", False, "no lock yet")]
    assert not found.wheelhouse.built
    assert not found.ready
    shown = rows(options)
    assert shown["target"] == "python 3.10 in python:3.10 on x86_64"
    assert shown["requirements/base.txt"] == "stale: no lock yet"
    assert "not built" in shown[str(options.wheelhouse)]


def test_a_built_and_proven_wheelhouse_is_ready_until_an_input_changes(tmp_path: Path) -> None:
    options = make(tmp_path)
    lock_freshly(options)
    build_wheelhouse(options)
    assert rows(options)["proof"] == "not proven: run 'wheelferry verify'"
    state.record_proof(options, IMAGE)
    found = project_status(options)
    assert found.ready
    assert (found.wheelhouse.wheels, found.wheelhouse.size) == (1, 3 * 1024 * 1024)
    assert rows(options)[str(options.wheelhouse)] == "1 wheel, 3.0 MiB"
    assert rows(options)["proof"].startswith("proven (")

    options.requirements[0].write_text("wferryfx-pure\nwferryfx-cext\n")
    found = project_status(options)
    assert not found.ready
    assert found.locks[0].reason == "base.in or what it references changed"


def test_a_wheelhouse_from_other_locks_says_so(tmp_path: Path) -> None:
    options = make(tmp_path)
    lock_freshly(options)
    build_wheelhouse(options)
    state.record_proof(options, IMAGE)
    lock = project.lock_entries(options)[0].lock
    lock.write_text(lock.read_text() + "# edited\n")
    shown = rows(options)[str(options.wheelhouse)]
    assert "not made from the current locks" in shown
    assert not project_status(options).ready


def test_an_input_that_cannot_be_locked_is_named_not_raised(tmp_path: Path) -> None:
    options = make(tmp_path, "-e ./local\n")
    found = project_status(options)
    assert "editable" in found.input_problem
    assert "cannot be locked" in rows(options)["inputs"]
    assert not found.ready


def test_a_newer_freeze_file_names_the_provided_packages_that_moved(tmp_path: Path) -> None:
    freeze = tmp_path / "p" / "platform-freeze.txt"
    freeze.parent.mkdir(parents=True)
    freeze.write_text("wferryfx-buildhelper==1.0\nwferryfx-gone==2.0\nother==3\n")
    options = load_options(write_project(tmp_path / "p", {"base.in": "wferryfx-pure\n"},
                                         **{"ca-bundle": "none",
                                            "provided": "platform-freeze.txt"}))
    lock_freshly(options)
    build_wheelhouse(options)
    manifest = mf.read_manifest(options.wheelhouse)
    assert manifest is not None
    mf.write_metadata(options.wheelhouse, replace(
        manifest, provided=(("wferryfx-buildhelper", "1.0"), ("wferryfx-gone", "2.0")),
        provided_source="the freeze file platform-freeze.txt"))
    assert "drift" not in rows(options)
    freeze.write_text("wferryfx-buildhelper==2.0.1\nother==3\n")
    shown = rows(options)["drift"]
    assert "wferryfx-buildhelper 1.0 -> 2.0.1" in shown
    assert "wferryfx-gone 2.0 -> not provided" in shown
    assert "other" not in shown
    assert "run 'wheelferry build' and 'wheelferry verify' again" in shown
