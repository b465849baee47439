"""build planning: the job of each pin (its override's build requirements at the locked
versions, hash-checked) and which wheels already in the wheelhouse can be reused. No engine."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from tests.support import (
    LEGACY_OVERRIDE,
    TARGET_IMAGE,
    make_wheel,
    pin,
    project_options,
    sha,
    write_fresh_lock,
)

from wheelferry.building import checks
from wheelferry.building.fetch import BuildJob
from wheelferry.building.outcome import BuildOutcome
from wheelferry.building.outcome import parse as parse_outcome
from wheelferry.building.plan import build_job, plan_build
from wheelferry.core.errors import BuildError, LockGapError
from wheelferry.core.files import sha256_file
from wheelferry.locking.project import read_project
from wheelferry.project import manifest as mf
from wheelferry.project.layout import lock_pins
from wheelferry.project.options import Options
from wheelferry.project.overrides import BuildOverride
from wheelferry.project.requirements import Pin
from wheelferry.target.elfcheck import check_platform_glibc

HELPER_2 = pin("wferryfx-buildhelper", "2.0", {f"sha256:{sha('helper-2')}"}, Path("base.txt"))
LEGACY = pin("wferryfx-legacy", "1.0", {f"sha256:{sha('legacy-sdist')}"}, Path("base.txt"))


def legacy_override(*requires: str, isolation_off: bool = True) -> BuildOverride:
    return BuildOverride(canonicalize_name("wferryfx-legacy"),
                         tuple(Requirement(r) for r in requires), isolation_off)


# -- build jobs -----------------------------------------------------------------------------------


def test_build_job_installs_locked_build_requirements_at_the_locked_version() -> None:
    pinned = {HELPER_2.name: HELPER_2, LEGACY.name: LEGACY}
    job = build_job(LEGACY, legacy_override("wferryfx-buildhelper", "cython>=3"), pinned)
    # The lock's own line, with its hashes: the extension is compiled against what ships.
    assert job.locked_build_requires == (HELPER_2.line,)
    assert job.unlocked_build_requires == ("cython>=3", "setuptools", "wheel")
    assert job.to_json()["override"] == {"no_build_isolation": True, "locked": [HELPER_2.line],
                                         "unlocked": ["cython>=3", "setuptools", "wheel"]}
    # A specifier that admits the locked version is fine too.
    assert build_job(LEGACY, legacy_override("wferryfx-buildhelper>=2"),
                     pinned).locked_build_requires == (HELPER_2.line,)
    plain = build_job(LEGACY, None, pinned)
    assert plain.override is None
    assert plain.locked_build_requires == ()
    assert "override" not in plain.to_json()


def test_build_job_refuses_a_build_requirement_that_excludes_the_locked_version() -> None:
    pinned = {HELPER_2.name: HELPER_2, LEGACY.name: LEGACY}
    with pytest.raises(BuildError) as caught:
        build_job(LEGACY, legacy_override("wferryfx-buildhelper<2"), pinned)
    message = caught.value.message
    assert "wferryfx-legacy" in message
    assert "wferryfx-buildhelper<2" in message
    assert "2.0" in message
    assert caught.value.exit_code == 5


def test_the_build_key_follows_the_locked_build_requirement() -> None:
    helper_1 = pin("wferryfx-buildhelper", "1.0", {f"sha256:{sha('helper-1')}"}, Path("b.txt"))
    override = legacy_override("wferryfx-buildhelper")
    key_2 = build_job(LEGACY, override, {HELPER_2.name: HELPER_2}).build_key
    key_1 = build_job(LEGACY, override, {helper_1.name: helper_1}).build_key
    assert key_1 != key_2
    assert build_job(LEGACY, override, {HELPER_2.name: HELPER_2}).build_key == key_2
    assert build_job(LEGACY, None, {}).build_key != key_2


def test_with_a_build_lock_every_build_requirement_is_hash_checked() -> None:
    pinned = {HELPER_2.name: HELPER_2}
    build_pins = (HELPER_2, Pin(canonicalize_name("setuptools"), Version("80.0"),
                                frozenset({"sha256:" + "1" * 64}), "setuptools==80.0",
                                Path("wheelferry-build.txt")))
    job = build_job(LEGACY, legacy_override("wferryfx-buildhelper"), pinned, build_pins)
    assert job.unlocked_build_requires == ()
    assert sorted(job.locked_build_requires) == sorted(p.line for p in build_pins)


# -- reuse ----------------------------------------------------------------------------------------


BUILD_LOCK = f"""\
wferryfx-buildhelper==2.0 \\
    --hash=sha256:{sha("helper-2")}
wferryfx-legacy==1.0 \\
    --hash=sha256:{sha("legacy-sdist")}
wferryfx-pure==1.0 \\
    --hash=sha256:{sha("pure-sdist")}
"""
IMAGE_ID = "sha256:" + sha("image")
ALL = ["wferryfx-buildhelper", "wferryfx-legacy", "wferryfx-pure"]


def _target_record(image_id: str = IMAGE_ID) -> mf.TargetRecord:
    return mf.TargetRecord(python="3.10", version="3.10.14", image=TARGET_IMAGE,
                           image_id=image_id, image_digest=image_id,
                           tags=("cp310-cp310-manylinux_2_17_x86_64",))


class BuildProject:
    def __init__(self, tmp_path: Path) -> None:
        self.options = project_options(tmp_path, {"base.in": "wferryfx-legacy\nwferryfx-pure\n"},
                                       overrides=LEGACY_OVERRIDE)
        write_fresh_lock(self.options, "base.in", BUILD_LOCK)
        self.locks = lock_pins(self.options)
        pins = {pin.name: pin for pin in self.locks[0][1]}
        self.key: dict[str, str] = {
            name: build_job(pin, self.options.build.configured(name), pins).build_key
            for name, pin in pins.items()}

    def records(self, **changes: dict[str, Any]) -> list[mf.WheelRecord]:
        base: dict[str, dict[str, Any]] = {
            "wferryfx-buildhelper": {
                "version": "2.0", "file": "wferryfx_buildhelper-2.0-py3-none-any.whl",
                "sha256": sha("helper-2"), "origin": "downloaded"},
            "wferryfx-legacy": {
                "version": "1.0", "file": "wferryfx_legacy-1.0-cp310-cp310-linux_x86_64.whl",
                "sha256": sha("legacy-wheel"), "origin": "built",
                "sdist": mf.SdistRecord("wferryfx-legacy-1.0.tar.gz", sha("legacy-sdist")),
                "build_key": self.key["wferryfx-legacy"]},
            "wferryfx-pure": {
                "version": "1.0", "file": "wferryfx_pure-1.0-py3-none-any.whl",
                "sha256": sha("pure-wheel"), "origin": "built",
                "sdist": mf.SdistRecord("wferryfx_pure-1.0.tar.gz", sha("pure-sdist")),
                "build_key": self.key["wferryfx-pure"]},
        }
        return [mf.WheelRecord(name=name, size=10, **{**fields, **changes.get(name, {})})
                for name, fields in base.items()]

    def plan(self, records: list[mf.WheelRecord] | None, *, image_id: str = IMAGE_ID,
             intact: Callable[[mf.WheelRecord], bool] = lambda record: True,
             options: Options | None = None) -> tuple[list[str], list[str]]:
        old = None if records is None else mf.Manifest(
            target=_target_record(), locks=(), wheels=tuple(records))
        plan = plan_build(read_project(options or self.options), image_id, self.locks, old, intact)
        assert len(plan.reuse) + len(plan.jobs) == len(plan.pins) == 3
        return sorted(r.name for r in plan.reuse), sorted(j.pin.name for j in plan.jobs)


def test_plan_build_reuses_wheels_made_for_the_same_pins(tmp_path: Path) -> None:
    bp = BuildProject(tmp_path)
    assert bp.plan(bp.records()) == (ALL, [])
    plan = plan_build(read_project(bp.options), IMAGE_ID, bp.locks, None, lambda record: True)
    assert plan.reuse == ()
    assert sorted(j.pin.name for j in plan.jobs) == ALL
    assert plan.locks == (("requirements/base.txt",
                           sha256_file(bp.options.project_dir / "requirements/base.txt")),)
    assert dict(plan.pin_locks)[canonicalize_name("wferryfx-pure")] == ("requirements/base.txt",)


def test_plan_build_rebuilds_everything_for_another_image(tmp_path: Path) -> None:
    bp = BuildProject(tmp_path)
    assert bp.plan(bp.records(), image_id="sha256:" + sha("another image")) == ([], ALL)


@pytest.mark.parametrize(
    ("changes", "rebuilt"),
    [
        ({"wferryfx-pure": {"version": "0.9"}}, "wferryfx-pure"),
        ({"wferryfx-pure": {"sdist": mf.SdistRecord("wferryfx_pure-1.0.tar.gz", sha("other"))}},
         "wferryfx-pure"),
        ({"wferryfx-pure": {"sdist": None}}, "wferryfx-pure"),
        ({"wferryfx-legacy": {"build_key": "built-with-other-settings"}}, "wferryfx-legacy"),
        ({"wferryfx-buildhelper": {"sha256": sha("a wheel the lock does not allow")}},
         "wferryfx-buildhelper"),
    ],
)
def test_plan_build_rebuilds_what_no_longer_matches_its_pin(
        tmp_path: Path, changes: dict[str, dict[str, Any]], rebuilt: str) -> None:
    bp = BuildProject(tmp_path)
    assert bp.plan(bp.records(**changes)) == ([n for n in ALL if n != rebuilt], [rebuilt])


def test_plan_build_rebuilds_a_wheel_whose_file_is_damaged_or_gone(tmp_path: Path) -> None:
    bp = BuildProject(tmp_path)
    assert bp.plan(bp.records(), intact=lambda r: r.name != "wferryfx-legacy") == (
        ["wferryfx-buildhelper", "wferryfx-pure"], ["wferryfx-legacy"])


def test_plan_build_rebuilds_when_the_override_changes(tmp_path: Path) -> None:
    bp = BuildProject(tmp_path)
    records = bp.records()
    changed = project_options(
        tmp_path, {"base.in": "wferryfx-legacy\nwferryfx-pure\n"}, overrides={
            "wferryfx-legacy": {"build-requires": ["wferryfx-buildhelper", "cython"],
                                "no-build-isolation": True}})
    assert bp.plan(records, options=changed) == (
        ["wferryfx-buildhelper", "wferryfx-pure"], ["wferryfx-legacy"])


PTHREAD_SOURCE = """#include <pthread.h>
static void *run(void *arg) { return arg; }
int start(void) { pthread_t thread; return pthread_create(&thread, 0, run, 0); }
"""


def test_a_wheelhouse_the_platforms_glibc_cannot_load_is_refused(tmp_path: Path) -> None:
    """A compiled file that needs GLIBC_2.34 (pthread_create moved into libc there) on a
    platform with glibc 2.31 (a real library, compiled here)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is not on PATH: this test compiles a real shared library with it")
    (tmp_path / "new.c").write_text(PTHREAD_SOURCE)
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(tmp_path / "new.so"),
                    str(tmp_path / "new.c")], check=True)
    wheel = make_wheel(tmp_path, "wferryfx_cext-1.0-cp310-cp310-linux_x86_64.whl",
                       {"wferryfx_cext/_native.cpython-310-x86_64-linux-gnu.so":
                        (tmp_path / "new.so").read_bytes()})
    with pytest.raises(BuildError) as caught:
        check_platform_glibc(tmp_path, [wheel.name], "2.31")
    assert "the platform's 2.31" in caught.value.message
    assert caught.value.details is not None
    assert wheel.name in caught.value.details
    assert "GLIBC_2.34" in caught.value.details
    assert "pthread_create" in caught.value.details
    assert caught.value.exit_code == 5
    check_platform_glibc(tmp_path, [wheel.name], "2.35")  # a newer platform loads it


def _fetched(name: str, **item: Any) -> tuple[BuildJob, BuildOutcome, Path]:
    """A pin as the build container reports it (its JSON, parsed as the host does)."""
    pin = Pin(name=canonicalize_name(name), version=Version("1.0"), hashes=frozenset(),
              requirement=name, lock=Path("requirements.txt"))
    report = {"name": name, "ok": True, "origin": "built", "file": f"{name}.whl", **item}
    return (BuildJob(pin=pin, build_key="k"), parse_outcome(report), Path(f"{name}.whl"))


def test_built_wheels_that_need_the_lock_changed_say_so_and_what() -> None:
    # Nothing to change: no error.
    checks.raise_lock_gaps([_fetched("plain")])
    with pytest.raises(LockGapError) as caught:
        checks.raise_lock_gaps([
            _fetched("liar", unlocked_requires=["six"]),
            _fetched("hdbscan", requires_bound=["numpy<2"]),
            _fetched("plain")])
    # The host locks again with these added to the inputs that hold each package.
    assert caught.value.gaps == {"liar": ("six",), "hdbscan": ("numpy<2",)}
    assert "the wheel built from liar's sdist requires six" in caught.value.message
    assert ("the sdist of hdbscan, older than the lock's numpy, builds only against numpy<2"
            in caught.value.message)


def test_a_wheel_whose_requirements_sit_in_its_description_is_broken_as_published() -> None:
    checks.raise_broken_as_published([_fetched("plain")])
    with pytest.raises(BuildError) as caught:
        checks.raise_broken_as_published([
            _fetched("sklearn", hidden_requires=["scikit-learn", "not a requirement ==="])])
    assert "sklearn 1.0 is broken as published" in caught.value.message
    assert "requires scikit-learn, not a requirement === only in its description" \
        in caught.value.message
    assert "replace sklearn with scikit-learn, not a requirement ===" in str(caught.value.hint)


def test_the_build_containers_report_is_checked_value_by_value() -> None:
    # Written by a container: a value of the wrong type is refused, never passed on.
    parsed = parse_outcome({"name": "pyyaml", "ok": True, "origin": "built", "file": "x.whl",
                            "sdist": {"file": "PyYAML-5.4.1.tar.gz", "sha256": "ab"},
                            "seconds": 3, "discovered": ["cython"],
                            "left_out": {"kind": "header", "name": "yaml.h",
                                         "package": "libyaml-dev", "modules": ["yaml._yaml"]}})
    assert parsed.sdist == mf.SdistRecord("PyYAML-5.4.1.tar.gz", "ab")
    assert parsed.discovered == ("cython",)
    assert parsed.seconds == 3.0
    assert parsed.left_out is not None
    assert parsed.left_out.record()[1:] == ("libyaml-dev", "yaml._yaml")
    assert "yaml.h" in parsed.left_out.record()[0]
    ok = {"name": "x", "ok": True, "origin": "downloaded"}
    for bad in ({"name": "x", "ok": "yes"}, {**ok, "file": 3}, {**ok, "discovered": "cython"},
                {**ok, "sdist": {"file": "x.tar.gz"}}, {**ok, "seconds": "3"},
                {"ok": True}, ["x"]):
        with pytest.raises(BuildError):
            parse_outcome(bad)
    # A wheel that came neither from the index nor from its sdist: no such thing.
    for bad in ({**ok, "origin": "elsewhere"}, {"name": "x", "ok": True}):
        with pytest.raises(BuildError, match="malformed 'origin'"):
            parse_outcome(bad)
    # A pin that failed made no wheel, so it has no origin.
    assert parse_outcome({"name": "x", "ok": False, "step": "building it"}).origin is None
