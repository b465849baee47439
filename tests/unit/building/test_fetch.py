"""The fetch-and-build step on the fake engine: the job one build container gets, and the host's
checks of what it reports (each wheel against its pin, the target's tags and the lock's hashes;
a failure told by the first failed pin, its log and the way out)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
from tests.support import project_options, write_fresh_lock
from tests.support.fake_engine import Answer, FakeEngine, Made, target_engine, wheels_made
from tests.support.fake_releases import Release, a_cache_of_its_own, lock_body, sha256

from wheelferry.building import fetch
from wheelferry.building.plan import build_job
from wheelferry.core.errors import BuildError
from wheelferry.core.report import Reporter
from wheelferry.engine.protocol import ContainerSpec
from wheelferry.engine.specs import CACHE_MOUNT, OUT_MOUNT
from wheelferry.project import layout as project
from wheelferry.project.options import Options
from wheelferry.target import image as targets

PURE = Release("wferryfx-pure")
LEGACY = Release("wferryfx-legacy", from_sdist=True)


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Options:
    a_cache_of_its_own(monkeypatch, tmp_path / "cache")
    options = project_options(tmp_path, {"base.in": "wferryfx-pure\nwferryfx-legacy\n"},
                              network="host")
    write_fresh_lock(options, "base.in", lock_body(PURE, LEGACY))
    return options


def fetch_and_build(engine: FakeEngine, options: Options, tmp_path: Path,
                    **kwargs: str) -> list[tuple[fetch.BuildJob, object, Path]]:
    target = targets.prepare(engine, options, lambda line: None)
    pins = [pin for _, pins in project.lock_pins(options) for pin in pins]
    by_name = {pin.name: pin for pin in pins}
    jobs = [build_job(pin, None, by_name) for pin in pins]
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return list(fetch.fetch_and_build(engine, options, target, jobs, work, Reporter(), jobs=2,
                                      locked=pins, image=kwargs.get("image")))


def build_fails(engine: FakeEngine, options: Options, tmp_path: Path) -> BuildError:
    with pytest.raises(BuildError) as caught:
        fetch_and_build(engine, options, tmp_path)
    assert caught.value.exit_code == 5
    return caught.value


def test_one_container_fetches_every_pin_hash_checked_and_its_wheels_are_handed_on(
        options: Options, tmp_path: Path) -> None:
    engine = target_engine()
    jobs: list[dict[str, Any]] = []

    def build(spec: ContainerSpec, out: Path) -> Answer:
        jobs.append(json.loads((out / "job.json").read_text()))
        return wheels_made(PURE.made(), LEGACY.made())

    engine.answer("build", build)
    fetched = fetch_and_build(engine, options, tmp_path)

    assert engine.purposes == ["probe", "build"]
    spec = engine.ran[-1]
    assert spec.network == "host"
    assert {m.target for m in spec.mounts if not m.read_only} == {OUT_MOUNT, CACHE_MOUNT}
    job = jobs[0]
    assert job["jobs"] == 2
    lines = [pin["line"] for pin in job["pins"]]
    assert any(line.startswith("wferryfx-pure==1.0") and sha256(PURE.wheel_bytes) in line
               for line in lines)
    assert set(job["locked"]) == {"wferryfx-pure", "wferryfx-legacy"}
    assert sorted((job.pin.name, path.read_bytes()) for job, _, path in fetched) == [
        ("wferryfx-legacy", LEGACY.wheel_bytes), ("wferryfx-pure", PURE.wheel_bytes)]


def test_another_build_image_is_used_when_given(options: Options, tmp_path: Path) -> None:
    engine = target_engine()
    engine.answer("build", wheels_made(PURE.made(), LEGACY.made()))
    fetch_and_build(engine, options, tmp_path, image="wheelferry-system:abc")
    assert engine.ran[-1].image == "wheelferry-system:abc"


@pytest.mark.parametrize(("made", "says"), [
    (dataclasses.replace(PURE.made(), content=b"another wheel"),
     f"{PURE.wheel} does not match any hash in the lock for wferryfx-pure"),
    (PURE.made(sdist={"file": "x.tar.gz", "sha256": sha256(b"x")}),
     "the sdist x.tar.gz does not match any hash in the lock for wferryfx-pure"),
    (dataclasses.replace(PURE.made(), file="wferryfx_other-1.0-py3-none-any.whl"),
     "wferryfx-pure==1.0 produced wferryfx_other-1.0-py3-none-any.whl, which is "
     "wferryfx-other 1.0"),
    (dataclasses.replace(PURE.made(), file="wferryfx_pure-1.0-cp311-cp311-win_amd64.whl"),
     "is not compatible with the target interpreter and platform"),
    (dataclasses.replace(PURE.made(), file="../wferryfx_pure-1.0-py3-none-any.whl"),
     "which is not a plain wheel file name"),
])
def test_a_wheel_that_is_not_what_the_lock_pins_is_refused(
        options: Options, tmp_path: Path, made: Made, says: str) -> None:
    engine = target_engine()
    engine.answer("build", wheels_made(made, LEGACY.made()))
    assert says in build_fails(engine, options, tmp_path).message


def test_a_wheel_that_is_a_link_is_not_taken(options: Options, tmp_path: Path) -> None:
    engine = target_engine()

    def build(spec: ContainerSpec, out: Path) -> Answer:
        (out / "wheels").mkdir()
        os.symlink("/etc/passwd", out / "wheels" / PURE.wheel)
        answer = wheels_made(PURE.made(), LEGACY.made())
        return dataclasses.replace(answer, files={
            k: v for k, v in answer.files.items() if k != f"wheels/{PURE.wheel}"})

    engine.answer("build", build)
    message = build_fails(engine, options, tmp_path).message
    assert message == (f"wferryfx-pure produced {PURE.wheel}, which is not a regular file; it "
                       "was not taken.")


def test_a_failed_pin_is_told_with_its_log_the_others_that_failed_and_the_way_out(
        options: Options, tmp_path: Path) -> None:
    engine = target_engine()
    engine.answer("build", wheels_made(
        LEGACY.failed(missing_module="numpy"), PURE.failed("downloading it"), exit_code=1,
        lines=("the container's last words",),
        logs={"wferryfx-legacy": "Traceback (most recent call last):\n"
                                 "ModuleNotFoundError: No module named 'numpy'\n"}))
    error = build_fails(engine, options, tmp_path)

    assert error.message.startswith("wferryfx-legacy==1.0 failed while building it: building "
                                    "wferryfx-legacy needs the module 'numpy'")
    assert error.message.endswith("(also failed: wferryfx-pure==1.0).")
    hint = error.hint or ""
    assert "[tool.wheelferry.overrides.wferryfx-legacy]" in hint
    assert "numpy" in hint
    assert hint.endswith("The previous wheelhouse is unchanged. The end of its log:")
    assert "No module named 'numpy'" in (error.details or "")


def test_a_container_that_ends_without_a_report_is_a_failure_told_by_its_output(
        options: Options, tmp_path: Path) -> None:
    engine = target_engine()
    engine.answer("build", Answer(exit_code=137, lines=("Killed",)))
    error = build_fails(engine, options, tmp_path)
    assert error.message.startswith("wferryfx-legacy==1.0 failed while building it")
    assert "(also failed: wferryfx-pure==1.0)" in error.message
    assert "Killed" in (error.details or "")


def test_a_container_that_fails_after_reporting_every_pin_done_fails_the_step(
        options: Options, tmp_path: Path) -> None:
    engine = target_engine()
    engine.answer("build", wheels_made(PURE.made(), LEGACY.made(), exit_code=1,
                                       lines=("OSError: [Errno 28] No space left on device",)))
    error = build_fails(engine, options, tmp_path)
    assert error.message == "the build container failed."
    assert "No space left on device" in (error.details or "")


def test_a_malformed_report_keeps_nothing(options: Options, tmp_path: Path) -> None:
    engine = target_engine()
    engine.answer("build", wheels_made(PURE.made(seconds="soon"), LEGACY.made()))
    error = build_fails(engine, options, tmp_path)
    assert "report for wferryfx-pure has a malformed 'seconds'" in error.message
