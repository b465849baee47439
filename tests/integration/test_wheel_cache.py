"""Built wheels shared across projects (issue 12, item 2): a second project that needs an sdist
another project already built the same way takes the wheel from the user's wheel cache and never
compiles it; a change in what decides the build (here an override's build requirement) builds it
again; a damaged entry is never used; the cache can be turned off. Real engine, real pip, the
local fixture index; the wheel cache is the test's own folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.support import index_project, wheelferry

from wheelferry.building.wheelcache import ENV, RECORD
from wheelferry.core.files import sha256_file
from wheelferry.project import manifest as mf

pytestmark = pytest.mark.engine

CEXT_BUILT = "==> wferryfx-cext: built wferryfx_cext-1.0-"
CEXT_COMPILING = "wferryfx-cext: building its wheel"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "wheel-cache"
    monkeypatch.setenv(ENV, str(folder))
    return folder


def build(project: Path, *args: str) -> str:
    """`wheelferry build -v` (every line the container prints); its output."""
    run = wheelferry("build", "-v", *args, project=project)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    return run.stdout + run.stderr


def entries(cache: Path) -> dict[str, dict[str, object]]:
    """Each entry's record, by key."""
    return {folder.name: json.loads((folder / RECORD).read_text())
            for folder in cache.iterdir() if (folder / RECORD).is_file()}


def cext(project: Path) -> tuple[mf.WheelRecord, bytes]:
    manifest = mf.read_manifest(project / "wheelhouse")
    assert manifest is not None
    record = manifest.wheel("wferryfx-cext")
    assert record is not None
    return record, (project / "wheelhouse" / record.file).read_bytes()


def test_a_second_project_takes_the_wheel_the_first_built_and_compiles_nothing(
        local_index: str, tmp_path: Path, cache: Path) -> None:
    first = index_project(tmp_path / "first", local_index, "wferryfx-cext\n")
    output = build(first)
    assert CEXT_COMPILING in output
    assert CEXT_BUILT in output
    built, built_bytes = cext(first)
    assert built.from_wheel_cache == ""
    (key, record), = entries(cache).items()
    assert record["wheel"] == {"file": built.file, "sha256": built.sha256, "size": built.size}
    assert built.sdist is not None
    assert record["sdist"] == {"file": built.sdist.file, "sha256": built.sdist.sha256}
    assert [p.name for p in cache.iterdir()] == [key]  # no temporary folder left

    # Another project, another lock, the same sdist: its build container runs (for
    # wferryfx-pure, compiled as the control) and never touches wferryfx-cext.
    second = index_project(tmp_path / "second", local_index, "wferryfx-cext\nwferryfx-pure\n")
    output = build(second)
    assert ("1 wheel(s) built earlier from the same sdist with the same settings are taken "
            f"from the wheel cache ({cache}): wferryfx-cext==1.0") in output
    assert "wferryfx-pure: building its wheel" in output
    assert "==> wferryfx-pure: built" in output
    assert CEXT_COMPILING not in output
    assert "==> wferryfx-cext" not in output
    assert "built (from the wheel cache)" in output
    assert "(2 built from sdists, 1 of them from the wheel cache, 0 downloaded)" in output
    taken, taken_bytes = cext(second)
    assert taken_bytes == built_bytes
    assert sha256_file(second / "wheelhouse" / taken.file) == built.sha256
    # Recorded as completely as a wheel built here, and where it came from.
    assert taken.from_wheel_cache == key
    assert (taken.origin, taken.sdist, taken.build_requires) == (
        "built", built.sdist, built.build_requires)
    assert taken.locks == ("requirements/base.txt",)
    assert list(entries(cache)) != [key]
    assert key in entries(cache)
    static = wheelferry("verify", "--static", project=second)
    assert static.returncode == 0, static.stderr

    # Nothing changed: the project's own wheelhouse is reused, as before.
    again = build(second)
    assert "2 wheel(s) already built for these pins are reused" in again
    assert "wheel cache" not in again.split("wheelhouse ")[0]


def test_another_build_requirement_builds_again_and_gets_an_entry_of_its_own(
        local_index: str, tmp_path: Path, cache: Path) -> None:
    plain = index_project(tmp_path / "plain", local_index, "wferryfx-cext\n")
    assert CEXT_BUILT in build(plain)
    (plain_key, _), = entries(cache).items()
    # The same sdist, built without isolation against a build requirement from the build lock.
    helped = index_project(tmp_path / "helped", local_index, "wferryfx-cext\n", overrides={
        "wferryfx-cext": {"build-requires": ["wferryfx-buildhelper"],
                          "no-build-isolation": True}})
    output = build(helped)
    assert CEXT_COMPILING in output
    assert CEXT_BUILT in output
    assert "from the wheel cache" not in output
    found = entries(cache)
    assert set(found) > {plain_key}
    assert len(found) == 2
    helped_record, = (r for k, r in found.items() if k != plain_key)
    facts = helped_record["key_data"]
    assert isinstance(facts, dict)
    assert facts["build_isolation"] is False
    assert facts["build_requires"] == ["wferryfx-buildhelper"]
    assert any(line.startswith("wferryfx-buildhelper==") for line in
               facts["locked_build_requires"])
    # Each setting finds its own entry again from a third and fourth project.
    for name, overrides, key in (("plain-again", {}, plain_key),
                                 ("helped-again", {"wferryfx-cext": {
                                     "build-requires": ["wferryfx-buildhelper"],
                                     "no-build-isolation": True}}, None)):
        project = index_project(tmp_path / name, local_index, "wferryfx-cext\n",
                                overrides=overrides)
        output = build(project)
        assert CEXT_COMPILING not in output
        assert "built (from the wheel cache)" in output
        record, _ = cext(project)
        assert record.from_wheel_cache == (key or next(k for k in found if k != plain_key))


def test_a_damaged_entry_is_never_used_and_the_wheel_is_built_again(
        local_index: str, tmp_path: Path, cache: Path) -> None:
    first = index_project(tmp_path / "first", local_index, "wferryfx-cext\n")
    build(first)
    (key, record), = entries(cache).items()
    wheel_info = record["wheel"]
    assert isinstance(wheel_info, dict)
    wheel = cache / key / str(wheel_info["file"])
    # The entry's wheel is a hard link to the first wheelhouse's where it can be: damage a copy.
    data = bytearray(wheel.read_bytes())
    wheel.unlink()
    data[len(data) // 2] ^= 0xFF  # same size: only its hash tells
    wheel.write_bytes(bytes(data))

    second = index_project(tmp_path / "second", local_index, "wferryfx-cext\n")
    output = build(second)
    assert "no longer matches its record; the entry was removed and wferryfx-cext is built " \
           "again" in output
    assert CEXT_COMPILING in output
    assert CEXT_BUILT in output
    taken, taken_bytes = cext(second)
    assert taken.from_wheel_cache == ""
    assert sha256_file(second / "wheelhouse" / taken.file) == taken.sha256
    assert taken_bytes != bytes(data)
    # The rebuilt wheel took the damaged entry's place.
    (again_key, again), = entries(cache).items()
    assert again_key == key
    assert again["wheel"] == {"file": taken.file, "sha256": taken.sha256, "size": taken.size}
    static = wheelferry("verify", "--static", project=second)
    assert static.returncode == 0, static.stderr


def test_turned_off_the_cache_is_neither_read_nor_written(
        local_index: str, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = index_project(tmp_path / "first", local_index, "wferryfx-cext\n")
    build(first)
    assert len(entries(cache)) == 1
    monkeypatch.setenv(ENV, "off")
    second = index_project(tmp_path / "second", local_index, "wferryfx-cext\nwferryfx-pure\n")
    output = build(second)
    assert CEXT_COMPILING in output
    assert CEXT_BUILT in output
    assert "wheel cache" not in output
    assert len(entries(cache)) == 1  # wferryfx-pure was not added
    assert os.environ[ENV] == "off"
