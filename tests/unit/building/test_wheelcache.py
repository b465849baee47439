"""The wheel cache: what its key is made of (each part that changes a build changes it), lookup
from the lock's hashes alone, whole entries written atomically, and damaged or partial entries
never used. No engine."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tests.support import make_wheel, pin, project_options, sha, write_fresh_lock

from wheelferry.building import wheelcache as wc
from wheelferry.building.fetch import BuildJob
from wheelferry.building.plan import build_job, plan_build
from wheelferry.core.files import sha256_file
from wheelferry.engine.client import ImageInfo
from wheelferry.locking.project import read_project
from wheelferry.project.layout import lock_pins
from wheelferry.project.manifest import SdistRecord
from wheelferry.project.overrides import BuildOverride
from wheelferry.project.requirements import Pin
from wheelferry.target.image import Target

SDIST = sha("cext-sdist")
WHEEL_HASH = sha("cext-wheel-on-the-index-for-another-python")
CEXT = pin("wferryfx-cext", "1.0", {f"sha256:{SDIST}", f"sha256:{WHEEL_HASH}"}, Path("base.txt"))
HELPER = pin("wferryfx-buildhelper", "2.0", {f"sha256:{sha('helper-2')}"}, Path("base.txt"))
WHEEL_FILE = "wferryfx_cext-1.0-cp310-cp310-linux_x86_64.whl"
SITE = wc.BuildSite(python="3.10.14", tags=("cp310-cp310-manylinux_2_17_x86_64", "py3-none-any"),
                    image_id="sha256:" + sha("image"), toolchain="wheelferry-toolchain:abc",
                    arch="x86_64")


def job(override: BuildOverride | None = None, build_pins: tuple[Pin, ...] = ()) -> BuildJob:
    return build_job(CEXT, override, {CEXT.name: CEXT, HELPER.name: HELPER}, build_pins)


def override(*requires: str, isolation_off: bool = True) -> BuildOverride:
    return BuildOverride(canonicalize_name("wferryfx-cext"),
                         tuple(Requirement(r) for r in requires), isolation_off)


def stored(cache: Path, tmp_path: Path, build: BuildJob | None = None,
           site: wc.BuildSite = SITE) -> wc.Entry:
    """A wheel built from SDIST put into the cache; the entry lookup then finds."""
    folder = tmp_path / "built"
    folder.mkdir(exist_ok=True)
    wheel = make_wheel(folder, WHEEL_FILE, {"wferryfx_cext/_native.so": b"\x7fELF compiled"})
    build = build or job()
    assert wc.store(cache, key_facts=wc.key_data(SDIST, build, site), wheel=wheel,
                    sha256=sha256_file(wheel),
                    sdist=SdistRecord("wferryfx_cext-1.0.tar.gz", SDIST),
                    build_requires=("setuptools==80.0",), seconds=12.5)
    entry = wc.lookup(cache, build, site)
    assert entry is not None
    return entry


# -- where it is ----------------------------------------------------------------------------------


def test_the_cache_lives_in_wheelferrys_user_cache_unless_moved_or_turned_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert wc.root({}) == tmp_path / "xdg" / "wheelferry" / "built-wheels"
    assert wc.root({wc.ENV: str(tmp_path / "elsewhere")}) == tmp_path / "elsewhere"
    assert wc.root({wc.ENV: ""}) == tmp_path / "xdg" / "wheelferry" / "built-wheels"
    for off in ("off", "OFF", "0", "false", "no", "none", " off "):
        assert wc.root({wc.ENV: off}) is None, off


# -- the key --------------------------------------------------------------------------------------


def test_the_key_is_the_same_for_the_same_sdist_built_the_same_way() -> None:
    # Another project: another lock (more hashes, another lock path), the same build.
    other_pin = dataclasses.replace(CEXT, hashes=frozenset({f"sha256:{SDIST}"}),
                                    lock=Path("other/base.txt"))
    other = build_job(other_pin, None, {})
    assert wc.cache_key(SDIST, job(), SITE) == wc.cache_key(SDIST, other, SITE)
    assert len(wc.cache_key(SDIST, job(), SITE)) == 64


@pytest.mark.parametrize("change", [
    {"python": "3.10.15"},
    {"tags": ("cp310-cp310-manylinux_2_28_x86_64",)},
    {"image_id": "sha256:" + sha("another image")},
    {"toolchain": "wheelferry-toolchain:def"},
    {"arch": "aarch64"},
], ids=lambda change: next(iter(change)))
def test_every_fact_of_the_build_site_is_in_the_key(change: dict[str, object]) -> None:
    moved = dataclasses.replace(SITE, **change)  # type: ignore[arg-type]
    assert wc.cache_key(SDIST, job(), moved) != wc.cache_key(SDIST, job(), SITE)


def test_every_build_setting_is_in_the_key() -> None:
    keys = {
        "plain": wc.cache_key(SDIST, job(), SITE),
        "another sdist": wc.cache_key(sha("another sdist"), job(), SITE),
        "no isolation": wc.cache_key(SDIST, job(override(isolation_off=True)), SITE),
        "locked requirement": wc.cache_key(SDIST, job(override("wferryfx-buildhelper")), SITE),
        "unlocked requirement": wc.cache_key(SDIST, job(override("cython>=3")), SITE),
        "another bound": wc.cache_key(SDIST, job(override("cython>=3.1")), SITE),
        "build lock": wc.cache_key(SDIST, job(override("wferryfx-buildhelper"), (HELPER,)),
                                   SITE),
    }
    assert len(set(keys.values())) == len(keys), keys
    # An override that changes nothing (isolated, nothing added) builds as without one.
    assert wc.cache_key(SDIST, job(override(isolation_off=False)), SITE) == keys["plain"]
    # The build lock's pins themselves: another version (or file) is another build.
    helper_1 = pin("wferryfx-buildhelper", "1.0", {f"sha256:{sha('helper-1')}"},
                   Path("base.txt"))
    assert wc.cache_key(SDIST, job(override("wferryfx-buildhelper"), (helper_1,)), SITE) \
        != keys["build lock"]


def test_an_override_found_by_locking_builds_like_the_same_one_configured() -> None:
    """What the build does decides the key, not where the setting came from."""
    configured = job(override("wferryfx-buildhelper"))
    discovered = job(BuildOverride(canonicalize_name("wferryfx-cext"),
                                   (Requirement("wferryfx-buildhelper"),), True))
    assert wc.cache_key(SDIST, configured, SITE) == wc.cache_key(SDIST, discovered, SITE)


def test_the_build_site_is_the_targets() -> None:
    image = ImageInfo(reference="python:3.10", id="sha256:" + sha("image"), digest="d")
    target = Target(python="3.10", version="3.10.14", image=image,
                    toolchain="wheelferry-toolchain:abc", tags=SITE.tags)
    assert wc.BuildSite.of(target, "x86_64") == SITE


# -- lookup, store, take --------------------------------------------------------------------------


def test_a_stored_wheel_is_found_from_the_locks_hashes_alone(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    entry = stored(cache, tmp_path)
    assert entry.file == WHEEL_FILE
    assert entry.sdist == SdistRecord("wferryfx_cext-1.0.tar.gz", SDIST)
    assert entry.build_requires == ("setuptools==80.0",)
    assert entry.seconds == 12.5
    assert entry.folder == cache / wc.cache_key(SDIST, job(), SITE)
    record = json.loads((entry.folder / wc.RECORD).read_text())
    assert record["key_data"] == wc.key_data(SDIST, job(), SITE)
    # Nothing but whole entries in the cache: the temporary folder was renamed into place.
    assert [p.name for p in cache.iterdir()] == [entry.key]
    # Another project's lock that lists only the sdist finds it too.
    only_sdist = build_job(dataclasses.replace(CEXT, hashes=frozenset({f"sha256:{SDIST}"})),
                           None, {})
    assert wc.lookup(cache, only_sdist, SITE) == entry


def test_a_build_elsewhere_or_otherwise_is_not_found(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    stored(cache, tmp_path)
    assert wc.lookup(cache, job(), dataclasses.replace(SITE, image_id="sha256:other")) is None
    assert wc.lookup(cache, job(override("cython")), SITE) is None
    # A lock that no longer allows the sdist (another release of the same version).
    relocked = build_job(dataclasses.replace(CEXT, hashes=frozenset({f"sha256:{WHEEL_HASH}"})),
                         None, {})
    assert wc.lookup(cache, relocked, SITE) is None
    assert wc.lookup(tmp_path / "no cache yet", job(), SITE) is None


def test_a_second_store_of_the_same_key_keeps_the_first(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    entry = stored(cache, tmp_path)
    wheel = tmp_path / "again" / WHEEL_FILE
    wheel.parent.mkdir()
    wheel.write_bytes(b"another build of it")
    assert not wc.store(cache, key_facts=wc.key_data(SDIST, job(), SITE), wheel=wheel,
                        sha256=sha256_file(wheel), sdist=entry.sdist)
    assert wc.lookup(cache, job(), SITE) == entry


def test_take_puts_the_wheel_in_place_byte_for_byte(tmp_path: Path) -> None:
    entry = stored(tmp_path / "cache", tmp_path)
    destination = tmp_path / "staging" / entry.file
    destination.parent.mkdir()
    assert wc.take(entry, destination)
    assert destination.read_bytes() == entry.wheel.read_bytes()
    assert sha256_file(destination) == entry.sha256


def test_a_damaged_wheel_is_never_taken_and_its_entry_is_removed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    entry = stored(cache, tmp_path)
    data = bytearray(entry.wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only its hash tells
    entry.wheel.write_bytes(bytes(data))
    destination = tmp_path / entry.file
    assert not wc.take(entry, destination)
    assert not destination.exists()
    assert not entry.folder.exists()
    assert wc.lookup(cache, job(), SITE) is None


def test_a_wheel_that_vanished_meanwhile_is_not_taken(tmp_path: Path) -> None:
    entry = stored(tmp_path / "cache", tmp_path)
    entry.wheel.unlink()
    assert not wc.take(entry, tmp_path / entry.file)


@pytest.mark.parametrize("damage", ["no record", "truncated record", "no wheel",
                                    "truncated wheel", "other key", "other format",
                                    "path in the file name", "not a wheel name",
                                    "other sdist"])
def test_a_partial_or_damaged_entry_is_never_found(tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    entry = stored(cache, tmp_path)
    record_path = entry.folder / wc.RECORD
    record = json.loads(record_path.read_text())
    if damage == "no record":
        record_path.unlink()
    elif damage == "truncated record":
        record_path.write_text(record_path.read_text()[:40])
    elif damage == "no wheel":
        entry.wheel.unlink()
    elif damage == "truncated wheel":
        entry.wheel.write_bytes(entry.wheel.read_bytes()[:-10])
    elif damage == "other key":
        record["key"] = sha("another key")
    elif damage == "other format":
        record["format"] = 99
    elif damage == "path in the file name":
        record["wheel"]["file"] = f"../{WHEEL_FILE}"
    elif damage == "not a wheel name":
        record["wheel"]["file"] = "wferryfx_cext.zip"
    elif damage == "other sdist":
        record["sdist"]["sha256"] = sha("another sdist")
    if damage in ("other key", "other format", "path in the file name", "not a wheel name",
                  "other sdist"):
        record_path.write_text(json.dumps(record))
    assert wc.lookup(cache, job(), SITE) is None


def test_a_damaged_entry_is_replaced_by_the_next_store(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    entry = stored(cache, tmp_path)
    (entry.folder / wc.RECORD).unlink()
    assert wc.lookup(cache, job(), SITE) is None
    assert stored(cache, tmp_path).key == entry.key


def test_a_killed_writes_temporary_folder_is_swept_once_stale(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    entry = stored(cache, tmp_path)
    fresh = cache / f"{wc.TEMPORARY_MARK}fresh"
    stale = cache / f"{wc.TEMPORARY_MARK}stale"
    for folder in (fresh, stale):
        folder.mkdir()
        (folder / WHEEL_FILE).write_bytes(b"half")
    os.utime(stale, (0, 0))
    wc.sweep(cache)
    assert sorted(p.name for p in cache.iterdir()) == sorted([entry.key, fresh.name])
    wc.sweep(tmp_path / "no cache")  # nothing to sweep: no error


def test_a_cache_that_cannot_be_written_raises_oserror(tmp_path: Path) -> None:
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    wheel = make_wheel(tmp_path, WHEEL_FILE, {})
    with pytest.raises(FileExistsError):
        wc.store(blocked, key_facts=wc.key_data(SDIST, job(), SITE), wheel=wheel,
                 sha256=sha256_file(wheel), sdist=SdistRecord("x.tar.gz", SDIST))


# -- planning -------------------------------------------------------------------------------------


def test_plan_build_takes_cached_wheels_before_building(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "wferryfx-cext\nwferryfx-pure\n"})
    write_fresh_lock(options, "base.in", f"""\
wferryfx-cext==1.0 \\
    --hash=sha256:{SDIST} \\
    --hash=sha256:{WHEEL_HASH}
wferryfx-pure==1.0 \\
    --hash=sha256:{sha("pure-sdist")}
""")
    cache = tmp_path / "cache"
    entry = stored(cache, tmp_path)
    plan = plan_build(read_project(options), SITE.image_id, lock_pins(options), None,
                      lambda r: True, cached=lambda build: wc.lookup(cache, build, SITE))
    assert [(build.pin.name, hit) for build, hit in plan.cached] == [("wferryfx-cext", entry)]
    assert [build.pin.name for build in plan.jobs] == ["wferryfx-pure"]
    # Turned off: everything is built.
    off = plan_build(read_project(options), SITE.image_id, lock_pins(options), None, lambda r: True)
    assert off.cached == ()
    assert sorted(build.pin.name for build in off.jobs) == ["wferryfx-cext", "wferryfx-pure"]


def test_a_lookup_marks_its_entry_used(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    entry = stored(cache, tmp_path)
    long_ago = 1_000_000_000.0
    os.utime(entry.folder / wc.RECORD, (long_ago, long_ago))
    elsewhere = dataclasses.replace(SITE, image_id="sha256:other")
    assert wc.lookup(cache, job(), elsewhere) is None
    assert (entry.folder / wc.RECORD).stat().st_mtime == long_ago  # no entry found: untouched
    assert wc.lookup(cache, job(), SITE) == entry
    assert (entry.folder / wc.RECORD).stat().st_mtime > long_ago + 1e8


def test_a_lease_holds_what_its_build_found_until_it_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache = tmp_path / "cache"
    entry = stored(cache, tmp_path)
    with wc.Lease(cache) as lease:
        assert lease.lookup(job(), SITE) == entry
        assert lease.keys == [entry.key]
        (listing,) = wc.leases(cache).glob("*.keys")
        assert listing.read_text() == f"{entry.key}\n"
    assert [p.name for p in wc.leases(cache).iterdir()] == ["lock"]
    assert [p.name for p in cache.iterdir()] == [entry.key]  # the cache holds entries only
