"""`wheelferry build` end to end against the real engine and the local fixture index.

One build of a project needing a pure package (with a marker-dependent dependency), a C extension
and a legacy sdist with its build override is shared by most tests; tests that change the project
work on a copy of the built one.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name, parse_wheel_filename
from tests.support import (
    LEGACY_OVERRIDE,
    TARGET_IMAGE,
    TARGET_PYTHON,
    copy_project,
    index_project,
    snapshot,
    staging_left,
    wheelferry,
)

from wheelferry.core.files import sha256_file
from wheelferry.engine.client import ContainerSpec, Engine, Mount
from wheelferry.project import manifest as mf
from wheelferry.project.requirements import Pin, read_lock

pytestmark = pytest.mark.engine

REQUIREMENTS = "wferryfx-needs-pure\nwferryfx-cext\nwferryfx-legacy\n"
BUILT_FROM_SDISTS = {"wferryfx-needs-pure", "wferryfx-pure", "wferryfx-tomlish", "wferryfx-cext",
                     "wferryfx-legacy"}
METADATA = {mf.SUMS, mf.MANIFEST, mf.REQUIREMENTS}


def pins_of(project: Path) -> dict[str, Pin]:
    return {pin.name: pin for pin in read_lock(project / "requirements" / "base.txt")}


def wheel_versions(wheelhouse: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for wheel in wheelhouse.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        assert name not in found, f"two wheels of {name} in {wheelhouse}"
        found[name] = str(version)
    return found


@dataclass(frozen=True)
class Built:
    project: Path
    stderr: str

    @property
    def wheelhouse(self) -> Path:
        return self.project / "wheelhouse"

    @property
    def lock(self) -> Path:
        return self.project / "requirements" / "base.txt"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, local_index: str, engine: Engine) -> Built:
    project = index_project(tmp_path_factory.mktemp("build") / "project", local_index,
                            REQUIREMENTS, overrides=LEGACY_OVERRIDE)
    result = wheelferry("build", project=project)
    assert result.returncode == 0, result.stderr
    return Built(project, result.stderr)


def test_the_wheelhouse_holds_one_wheel_per_pin_and_nothing_else(built: Built) -> None:
    pins = pins_of(built.project)
    files = {p.name for p in built.wheelhouse.iterdir()}
    wheels = {name for name in files if name.endswith(".whl")}
    assert files - wheels == METADATA
    assert len(wheels) == len(pins)
    assert wheel_versions(built.wheelhouse) == {name: str(pin.version)
                                                for name, pin in pins.items()}
    assert not [name for name in files if name.endswith((".tar.gz", ".zip", ".tar.bz2"))]
    assert set(pins) == BUILT_FROM_SDISTS | {"wferryfx-buildhelper"}
    assert staging_left(built.project) == []
    # The install list is exactly the wheels, by name, version and the wheel's own hash.
    requirements = (built.wheelhouse / mf.REQUIREMENTS).read_text().splitlines()
    expected = sorted(
        f"{parse_wheel_filename(w)[0]}=={parse_wheel_filename(w)[1]} --hash=sha256:"
        f"{hashlib.sha256((built.wheelhouse / w).read_bytes()).hexdigest()}" for w in wheels)
    assert requirements == expected


def test_sha256sum_checks_the_wheelhouse(built: Built) -> None:
    check = subprocess.run(["sha256sum", "--strict", "-c", mf.SUMS], cwd=built.wheelhouse,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    listed = {line.split("  ", 1)[1] for line in (built.wheelhouse / mf.SUMS).read_text()
              .splitlines()}
    assert listed == {p.name for p in built.wheelhouse.iterdir()} - {mf.SUMS}


def test_the_manifest_records_target_origins_and_the_locked_sdists(built: Built) -> None:
    manifest = mf.read_manifest(built.wheelhouse)
    assert manifest is not None
    assert manifest.target.python == TARGET_PYTHON
    assert manifest.target.image == TARGET_IMAGE
    assert manifest.target.version.startswith(f"{TARGET_PYTHON}.")
    build_lock = built.lock.with_name("wheelferry-build.txt")
    # Every lock the wheelhouse was built from: the project's, and the overrides' build lock.
    assert dict(manifest.locks) == {
        "requirements/base.txt": hashlib.sha256(built.lock.read_bytes()).hexdigest(),
        "requirements/wheelferry-build.txt": hashlib.sha256(build_lock.read_bytes()).hexdigest()}
    pins = pins_of(built.project)
    records = {record.name: record for record in manifest.wheels}
    assert set(records) == set(pins)
    for name, record in records.items():
        pin = pins[canonicalize_name(name)]
        assert record.version == str(pin.version)
        assert record.sha256 == sha256_file(built.wheelhouse / record.file)
        assert record.locks == ("requirements/base.txt",)
        if name in BUILT_FROM_SDISTS:
            assert record.origin == "built", name
            assert record.sdist is not None, name
            assert pin.allows(record.sdist.sha256), f"{name}: sdist hash not in the lock"
            assert not pin.allows(record.sha256), f"{name}: a built wheel cannot be locked"
        else:
            assert record.origin == "downloaded", name
            assert record.sdist is None
            assert pin.allows(record.sha256), f"{name}: wheel hash not in the lock"
    legacy = records["wferryfx-legacy"]
    # Built against the helper the lock ships, not whatever pip would pick.
    helpers = [r for r in legacy.build_requires
               if canonicalize_name(r.split("==")[0]) == "wferryfx-buildhelper"]
    assert helpers == ["wferryfx_buildhelper==2.0"], legacy.build_requires
    assert str(pins[canonicalize_name("wferryfx-buildhelper")].version) == "2.0"


def test_the_lock_is_resolved_for_the_target_python(built: Built) -> None:
    header = built.lock.read_text().splitlines()[0]
    assert header.startswith(f"# wheelferry-lock: python={TARGET_PYTHON} image={TARGET_IMAGE} ")
    # wferryfx-needs-pure requires wferryfx-tomlish only below 3.11: the 3.10 target needs it,
    # whatever the host runs (a lock resolved with the markers of a 3.11+ host drops it).
    assert "wferryfx-tomlish" in pins_of(built.project)


def test_the_compiled_wheels_import_offline_in_the_target(built: Built, engine: Engine) -> None:
    check = ("import wferryfx_cext, wferryfx_legacy, wferryfx_needs_pure; "
             "print('RESULT', wferryfx_cext.add(2, 3), wferryfx_legacy.built_abi())")
    script = (
        "set -e; python -m venv /tmp/venv; "
        "/tmp/venv/bin/pip install --no-index --find-links /wheelhouse "
        "-r /wheelhouse/wheelferry-requirements.txt; "
        f'/tmp/venv/bin/python -c "{check}"'
    )
    spec = ContainerSpec(
        image=TARGET_IMAGE, command=("bash", "-c", script), purpose="test-offline-install",
        mounts=(Mount(built.wheelhouse, "/wheelhouse"),),
        environment=(("HOME", "/tmp"), ("PIP_CONFIG_FILE", "/dev/null"),
                     ("PIP_DISABLE_PIP_VERSION_CHECK", "1")),
        network="none",
    )
    result = engine.run(spec)
    output = "\n".join(result.tail)
    assert result.ok, output
    # 2 + 3 from the C extension; ABI 2 = compiled against wferryfx-buildhelper 2.0, which the
    # lock ships (importing checks the ABI against the installed helper too).
    assert "RESULT 5 2" in result.tail, output


def test_a_second_build_with_nothing_changed_reuses_everything(built: Built) -> None:
    lock_bytes = built.lock.read_bytes()
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
              for p in built.wheelhouse.glob("*.whl")}
    result = wheelferry("build", project=built.project)
    assert result.returncode == 0, result.stderr
    assert "requirements/base.txt is up to date" in result.stderr
    assert f"{len(before)} wheel(s) already built for these pins are reused" in result.stderr
    assert "will be re-resolved" not in result.stderr
    assert "fetching and building" not in result.stderr
    assert built.lock.read_bytes() == lock_bytes
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
             for p in built.wheelhouse.glob("*.whl")}
    assert after == before
    assert staging_left(built.project) == []


def test_a_dropped_requirement_is_pruned(built: Built, tmp_path: Path) -> None:
    project = copy_project(built.project, tmp_path)
    (project / "requirements" / "base.in").write_text("wferryfx-needs-pure\nwferryfx-legacy\n")
    result = wheelferry("build", project=project)
    assert result.returncode == 0, result.stderr
    assert "requirements/base.txt will be re-resolved" in result.stderr
    assert "fetching and building" not in result.stderr
    pins = pins_of(project)
    assert canonicalize_name("wferryfx-cext") not in pins
    wheelhouse = project / "wheelhouse"
    assert wheel_versions(wheelhouse) == {n: str(p.version) for n, p in pins.items()}
    assert not list(wheelhouse.glob("wferryfx_cext-*"))
    assert "wferryfx_cext" not in (wheelhouse / mf.SUMS).read_text()
    manifest = mf.read_manifest(wheelhouse)
    assert manifest is not None
    assert "wferryfx-cext" not in {r.name for r in manifest.wheels}
    check = subprocess.run(["sha256sum", "--strict", "-c", mf.SUMS], cwd=wheelhouse,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert staging_left(project) == []


def test_a_failed_build_leaves_the_wheelhouse_and_the_lock_as_they_were(
        built: Built, tmp_path: Path) -> None:
    project = copy_project(built.project, tmp_path)
    before = snapshot(project)  # the wheelhouse and the locks
    lock_before = (project / "requirements" / "base.txt").read_bytes()
    (project / "requirements" / "base.in").write_text(REQUIREMENTS + "wferryfx-broken\n")

    result = wheelferry("build", project=project)
    assert result.returncode == 5, result.stderr
    assert "build failed: wferryfx-broken==1.0 failed while building its wheel" in result.stderr
    # The tail of its log shows the compiler's error in the broken source.
    tail = result.stderr.split("The end of its log:", 1)[1]
    assert "wferryfx_broken/_native.c:" in tail
    assert "error:" in tail
    assert "previous wheelhouse is unchanged" in result.stderr
    assert snapshot(project) == before
    assert (project / "requirements" / "base.txt").read_bytes() == lock_before
    assert staging_left(project) == []
    assert not [p for p in (project / "requirements").iterdir() if p.name.startswith(".")]
    assert not [p for p in (project / ".wheelferry").iterdir() if p.is_dir()]


def test_the_legacy_sdist_builds_without_an_override_and_names_the_one_to_write(
        local_index: str, tmp_path: Path) -> None:
    """Its setup.py imports wferryfx_buildhelper without declaring it: locking finds that,
    records it in the build lock, and the build installs it hash-checked from there."""
    project = index_project(tmp_path / "project", local_index, "wferryfx-legacy\n")
    result = wheelferry("build", project=project)
    assert result.returncode == 0, result.stderr
    message = result.stderr
    assert ("wferryfx-legacy's setup.py imports wferryfx-buildhelper without declaring it"
            in message)
    assert "[tool.wheelferry.overrides.wferryfx-legacy]\n" in message
    assert 'build-requires = ["wferryfx-buildhelper"]\n' in message
    assert "no-build-isolation = true" in message
    assert "built (with wferryfx-buildhelper)" in message
    build_lock = (project / "requirements" / "wheelferry-build.txt").read_text()
    assert "# wheelferry-discovered: wferryfx-legacy needs wferryfx-buildhelper\n" in build_lock
    assert "wferryfx-buildhelper==2.0" in build_lock
    manifest = mf.read_manifest(project / "wheelhouse")
    assert manifest is not None
    legacy = manifest.wheel("wferryfx-legacy")
    assert legacy is not None
    assert legacy.discovered_build_requires == ("wferryfx-buildhelper",)
    assert "wferryfx_buildhelper==2.0" in legacy.build_requires
    assert staging_left(project) == []
    again = wheelferry("build", project=project)
    assert again.returncode == 0, again.stderr
    assert "is up to date" in again.stderr
    assert "already built for these pins are reused" in again.stderr



def test_the_build_tells_how_many_of_how_many_are_done(built: Built) -> None:
    """Off a terminal every line carries the run's elapsed time, and each package's result
    line says how many of the step's packages are done."""
    lines = built.stderr.splitlines()
    counted = [found for line in lines
               if (found := re.fullmatch(r"  \[\d+\.\d s\] ==> (\S+): .* \[(\d+)/(\d+)\]", line))]
    total = len(pins_of(built.project))
    assert sorted(found[1] for found in counted) == sorted(pins_of(built.project)), lines
    assert [(found[2], found[3]) for found in counted] == [
        (str(n), str(total)) for n in range(1, total + 1)], lines
    steps = [line for line in lines if line.startswith("wheelferry: ")]
    assert steps
    assert all(re.match(r"wheelferry: \[\d+\.\d s\] ", line) for line in steps), steps
