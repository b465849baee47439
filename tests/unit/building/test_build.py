"""build.execute on the fake engine: the plan carried out (only what changed runs in a container),
what the new wheelhouse holds, the summary, and the rollback (a failed build leaves the previous
wheelhouse exactly as it was). The real engine drives the same paths in
tests/integration/test_build_wheelhouse.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support import project_options, snapshot, staging_left, write_fresh_lock
from tests.support.fake_engine import Answer, FakeEngine, target_engine, wheels_made
from tests.support.fake_releases import Release, a_cache_of_its_own, lock_body, sha256

from wheelferry.building import build as building
from wheelferry.building import plan as planning
from wheelferry.building import wheelcache
from wheelferry.core.errors import BuildError
from wheelferry.core.report import Reporter
from wheelferry.engine.protocol import ContainerSpec
from wheelferry.engine.specs import OUT_MOUNT
from wheelferry.locking.project import read_project
from wheelferry.project import manifest as mf
from wheelferry.project.options import Options
from wheelferry.target import image as targets

PURE = Release("wferryfx-pure")
LEGACY = Release("wferryfx-legacy", from_sdist=True)
PURE_2 = Release("wferryfx-pure", "2.0")


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Options:
    a_cache_of_its_own(monkeypatch, tmp_path / "cache")
    return project_options(tmp_path, {"base.in": "wferryfx-pure\nwferryfx-legacy\n"})


def locked(options: Options, *releases: Release) -> None:
    write_fresh_lock(options, "base.in", lock_body(*releases))


def execute(engine: FakeEngine, options: Options, *, wheel_cache: Path | None = None
            ) -> mf.Manifest:
    """Plan from the locks and the wheelhouse as they are, then execute, as the build flow
    does."""
    target = targets.prepare(engine, options, lambda line: None)
    current = read_project(options)
    plan = planning.plan_build(current, target.image.id, current.lock_pins(),
                               mf.read_manifest(options.wheelhouse),
                               planning.intact_in(options.wheelhouse))
    return building.execute(engine, current, target, plan, Reporter(), wheel_cache=wheel_cache)


def test_a_build_stores_each_wheel_with_its_checksums_and_says_what_it_made(
        options: Options, capsys: pytest.CaptureFixture[str]) -> None:
    locked(options, PURE, LEGACY)
    engine = target_engine()
    asked: list[list[str]] = []

    def build(spec: ContainerSpec, out: Path) -> Answer:
        asked.append([pin["name"] for pin in json.loads((out / "job.json").read_text())["pins"]])
        return wheels_made(PURE.made(), LEGACY.made(build_requires=["setuptools==69.0"]))

    engine.answer("build", build)
    manifest = execute(engine, options)

    assert engine.purposes == ["probe", "build"]
    spec = engine.ran[-1]
    assert spec.image == targets.toolchain_reference(engine.images["python:3.10"])
    assert {m.target for m in spec.mounts if not m.read_only} >= {OUT_MOUNT}
    assert asked == [["wferryfx-legacy", "wferryfx-pure"]]
    wheelhouse = options.wheelhouse
    assert (wheelhouse / PURE.wheel).read_bytes() == PURE.wheel_bytes
    assert (wheelhouse / LEGACY.wheel).read_bytes() == LEGACY.wheel_bytes
    sums = (wheelhouse / "SHA256SUMS").read_text()
    assert f"{sha256(PURE.wheel_bytes)}  {PURE.wheel}" in sums
    assert f"{sha256(LEGACY.wheel_bytes)}  {LEGACY.wheel}" in sums
    on_disk = mf.read_manifest(wheelhouse)
    assert on_disk == manifest
    records = {r.name: r for r in manifest.wheels}
    assert records["wferryfx-pure"].origin == "downloaded"
    assert records["wferryfx-legacy"].origin == "built"
    assert records["wferryfx-legacy"].sdist == mf.SdistRecord(LEGACY.sdist,
                                                              sha256(LEGACY.sdist_bytes))
    assert records["wferryfx-legacy"].build_requires == ("setuptools==69.0",)
    assert records["wferryfx-pure"].locks == ("requirements/base.txt",)
    assert manifest.target.version == "3.10.14"
    said = capsys.readouterr().err
    assert "2 wheels (1 built from sdists, 1 downloaded)" in said
    assert "for python 3.10.14 on x86_64" in said
    # Nothing of the build's scratch work is left in or beside the wheelhouse.
    assert sorted(p.name for p in wheelhouse.iterdir()) == sorted(
        [PURE.wheel, LEGACY.wheel, "SHA256SUMS", mf.MANIFEST, mf.REQUIREMENTS])
    assert staging_left(options.project_dir) == []


def test_only_the_changed_pins_run_and_the_wheels_built_before_are_kept(
        options: Options, capsys: pytest.CaptureFixture[str]) -> None:
    locked(options, PURE, LEGACY)
    engine = target_engine()
    engine.answer("build", wheels_made(PURE.made(), LEGACY.made()))
    execute(engine, options)
    built_before = (options.wheelhouse / LEGACY.wheel).stat().st_ino
    capsys.readouterr()

    locked(options, PURE_2, LEGACY)
    asked: list[list[str]] = []

    def build(spec: ContainerSpec, out: Path) -> Answer:
        asked.append([p["name"] for p in json.loads((out / "job.json").read_text())["pins"]])
        return wheels_made(PURE_2.made())

    engine.answer("build", build)
    manifest = execute(engine, options)

    assert asked == [["wferryfx-pure"]]
    assert engine.purposes == ["probe", "build", "build"]  # the probe is remembered
    assert not (options.wheelhouse / PURE.wheel).exists()
    assert (options.wheelhouse / PURE_2.wheel).read_bytes() == PURE_2.wheel_bytes
    # The reused wheel is the same file, linked into the new wheelhouse, not made again.
    assert (options.wheelhouse / LEGACY.wheel).stat().st_ino == built_before
    assert sorted(w.file for w in manifest.wheels) == sorted([LEGACY.wheel, PURE_2.wheel])
    summary = capsys.readouterr().err
    assert "wferryfx-legacy  1.0  reused" in summary
    assert "wferryfx-pure  2.0  downloaded" in summary

    # Nothing changed: no container at all, the wheelhouse as it was.
    before = snapshot(options.project_dir)
    execute(engine, options)
    assert engine.purposes == ["probe", "build", "build"]
    assert snapshot(options.project_dir) == before


def test_a_failed_build_leaves_the_previous_wheelhouse_exactly_as_it_was(
        options: Options) -> None:
    locked(options, PURE, LEGACY)
    engine = target_engine()
    engine.answer("build", wheels_made(PURE.made(), LEGACY.made()))
    execute(engine, options)
    before = snapshot(options.project_dir)

    locked(options, PURE_2, LEGACY)
    after_lock = snapshot(options.project_dir)
    engine.answer("build", wheels_made(
        PURE_2.failed("downloading it"), exit_code=1,
        logs={"wferryfx-pure": "ERROR: No matching distribution found for wferryfx-pure==2.0"}))
    with pytest.raises(BuildError) as caught:
        execute(engine, options)

    error = caught.value
    assert error.exit_code == 5
    assert error.message.startswith("wferryfx-pure==2.0 failed while downloading it")
    assert "The previous wheelhouse is unchanged" in (error.hint or "")
    assert "No matching distribution found" in (error.details or "")
    wheelhouse_files = {k: v for k, v in snapshot(options.project_dir).items()
                        if k.startswith("wheelhouse")}
    assert wheelhouse_files == {k: v for k, v in before.items() if k.startswith("wheelhouse")}
    assert snapshot(options.project_dir) == after_lock
    assert staging_left(options.project_dir) == []


def test_a_wheel_built_without_its_optional_compiled_part_is_kept_with_a_warning_and_how_to_fix(
        options: Options, capsys: pytest.CaptureFixture[str]) -> None:
    locked(options, LEGACY)
    engine = target_engine()
    engine.answer("build", wheels_made(LEGACY.made(left_out={
        "kind": "header", "name": "yaml.h", "package": "libyaml-dev", "modules": []})))
    manifest = execute(engine, options)

    assert manifest.wheels[0].left_out[1] == "libyaml-dev"
    said = capsys.readouterr().err
    assert "wferryfx-legacy 1.0 was built without its optional compiled part" in said
    assert 'system-packages = ["libyaml-dev"]' in said


def test_wheels_built_from_sdists_go_to_the_wheel_cache_and_the_next_project_takes_them(
        options: Options, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "wheel-cache"
    locked(options, PURE, LEGACY)
    engine = target_engine()
    engine.answer("build", wheels_made(PURE.made(), LEGACY.made()))
    execute(engine, options, wheel_cache=cache)

    # Another project with the same pin: planned with the cache, its wheel is taken from it.
    other = project_options(tmp_path / "other", {"base.in": "wferryfx-legacy\n"})
    write_fresh_lock(other, "base.in", lock_body(LEGACY))
    target = targets.prepare(engine, other, lambda line: None)
    site = wheelcache.BuildSite.of(target, other.target.arch, None)
    with wheelcache.Lease(cache) as lease:
        current = read_project(other)
        plan = planning.plan_build(current, target.image.id, current.lock_pins(), None,
                                   planning.intact_in(other.wheelhouse),
                                   cached=lambda job: lease.lookup(job, site))
        capsys.readouterr()
        manifest = building.execute(engine, current, target, plan, Reporter(),
                                    wheel_cache=cache)

    assert engine.purposes == ["probe", "build"]  # no second build container
    assert (other.wheelhouse / LEGACY.wheel).read_bytes() == LEGACY.wheel_bytes
    assert manifest.wheels[0].from_wheel_cache
    assert "from the wheel cache" in capsys.readouterr().err
