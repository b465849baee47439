"""Wheels built from sdists, shared by every project of the user: a content-addressed cache.

An entry is keyed by everything that decides what a build makes: the sdist's sha256, the target
interpreter (its full version and wheel tags), the images the build ran in (the target image's
id, and the toolchain image, which names pip's version), the platform's machine, and the build
settings (an override's build requirements and build isolation, the pins of the build lock it
installs). A project that needs an sdist some project already built the same way takes that
wheel instead of compiling it again. Looking up needs no download: the lock lists the hash of
every file of the pinned version, the sdist's among them.

Layout: `<root>/<key>/record.json` beside `<root>/<key>/<wheel file>`, each entry written whole
and taken only when its wheel matches its record (cacheentry.py). `WHEELFERRY_WHEEL_CACHE` moves
the cache (a folder) or turns it off (`off`).

Each lookup that finds an entry marks it used (its record's modification time), which is what
`wheelferry cache prune` orders by. A build holds a lease on the entries it found (`Lease`)
until it ends, and pruning never removes a leased entry: both take the cache's lock around their
look, so no entry is removed between a build finding it and leasing it. A lease whose run died is
recognised (its lock file is free) and dropped. The lock and the leases live in wheelferry's user
cache (`wheel-cache-leases/<digest of the cache's path>/`), not in the cache, which holds
entries only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from packaging.utils import parse_wheel_filename

from wheelferry.building.cacheentry import (
    RECORD,
    TEMPORARY_MARK,
    Entry,
    digest,
    discard,
    read_entry,
    store,
    take,
)
from wheelferry.building.fetch import BuildJob
from wheelferry.engine.specs import cache_root
from wheelferry.target.image import Target

# The entries' own reading and writing live in cacheentry.py; the cache's users reach them here.
__all__ = ["ENV", "RECORD", "TEMPORARY_MARK", "BuildSite", "Entry", "Lease", "cache_key",
           "cache_lock", "digest", "discard", "key_data", "leased", "leases", "lookup",
           "read_entry", "root", "store", "sweep", "take"]

ENV = "WHEELFERRY_WHEEL_CACHE"
OFF = ("off", "0", "false", "no", "none")
FOLDER_NAME = "built-wheels"
# Part of every key: raised when the way wheels are built changes what comes out.
KEY_FORMAT = 1
LEASES = "wheel-cache-leases"
# A temporary folder this old is a killed run's (a write takes a moment).
STALE_SECONDS = 3600.0


def root(environ: Mapping[str, str] | None = None) -> Path | None:
    """The cache's folder, or None when it is turned off: `WHEELFERRY_WHEEL_CACHE` names a
    folder or says `off`; by default `built-wheels` in wheelferry's user cache folder."""
    value = (os.environ if environ is None else environ).get(ENV, "").strip()
    if value.lower() in OFF:
        return None
    if value:
        return Path(value).expanduser()
    return cache_root() / FOLDER_NAME


@dataclass(frozen=True)
class BuildSite:
    """Where a wheel is built, as far as it decides the wheel: the same sdist built with the
    same settings at the same site gives the same wheel (up to timestamps)."""

    python: str  # the target's full version, e.g. 3.10.14
    tags: tuple[str, ...]
    image_id: str
    toolchain: str
    arch: str
    # The digest of the platform's shared libraries ("": not known): a wheel carries those it
    # links that the platform lacks.
    platform_libraries: str = ""

    @classmethod
    def of(cls, target: Target, arch: str,
           platform_libraries: tuple[str, ...] | None = None) -> BuildSite:
        libraries = "" if platform_libraries is None else hashlib.sha256(
            "\n".join(sorted(platform_libraries)).encode()).hexdigest()
        return cls(python=target.version, tags=target.tags, image_id=target.image.id,
                   toolchain=target.toolchain, arch=arch, platform_libraries=libraries)


def key_data(sdist_sha256: str, job: BuildJob, site: BuildSite) -> dict[str, Any]:
    """What an entry's key is made of (kept in its record, for whoever wonders why a wheel was
    or was not taken)."""
    override = job.override
    return {
        "format": KEY_FORMAT,
        "sdist_sha256": sdist_sha256,
        "name": job.pin.name,
        "version": str(job.pin.version),
        "python": site.python,
        # Hundreds of them: the key holds their digest.
        "tags": hashlib.sha256("\n".join(sorted(site.tags)).encode()).hexdigest(),
        "image_id": site.image_id,
        "toolchain": site.toolchain,
        "arch": site.arch,
        "build_isolation": override is None or not override.no_build_isolation,
        "build_requires": sorted(str(r) for r in override.build_requires) if override else [],
        "locked_build_requires": sorted(job.locked_build_requires),
        "unlocked_build_requires": sorted(job.unlocked_build_requires),
        # Its build container's OS packages (what their libraries make of the build).
        **({"system_packages": sorted(job.system_packages)} if job.system_packages else {}),
        **({"platform_libraries": site.platform_libraries} if site.platform_libraries else {}),
    }


def cache_key(sdist_sha256: str, job: BuildJob, site: BuildSite) -> str:
    return digest(key_data(sdist_sha256, job, site))


def _matches(entry: Entry, job: BuildJob, sdist_sha256: str) -> bool:
    name, version, _, _ = parse_wheel_filename(entry.file)
    return (entry.sdist.sha256 == sdist_sha256 and name == job.pin.name
            and version == job.pin.version)


def lookup(cache: Path, job: BuildJob, site: BuildSite) -> Entry | None:
    """The cached wheel for this pin built at this site with these settings, if any. Each hash
    the lock allows is tried as the sdist's: only the sdist's can have an entry."""
    for allowed in sorted(job.pin.hashes):
        sdist_sha256 = allowed.removeprefix("sha256:")
        key = cache_key(sdist_sha256, job, site)
        entry = read_entry(cache / key, key)
        if entry is not None and _matches(entry, job, sdist_sha256):
            with contextlib.suppress(OSError):  # a read-only cache is still used
                os.utime(entry.folder / RECORD)
            return entry
    return None


def leases(cache: Path) -> Path:
    """The folder of the cache's lock and of the leases running builds hold on its entries."""
    where = hashlib.sha256(str(cache.absolute()).encode()).hexdigest()[:16]
    return cache_root() / LEASES / where


def cache_lock(cache: Path) -> FileLock:
    """The lock that lookups under a lease and pruning take around their look at the cache
    (OSError when its folder cannot be made)."""
    leases(cache).mkdir(parents=True, exist_ok=True)
    return FileLock(leases(cache) / "lock")


class Lease:
    """The entries a running build found, kept from pruning until the build ends. A cache that
    cannot be written gives no lease: lookups still work, unprotected."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self.keys: list[str] = []
        self._name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._held: FileLock | None = None

    def __enter__(self) -> Lease:
        try:
            folder = leases(self.cache)
            folder.mkdir(parents=True, exist_ok=True)
            held = FileLock(folder / f"{self._name}.lock")
            held.acquire(timeout=0)
            self._held = held
        except (OSError, Timeout):
            self._held = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._held is None:
            return
        with contextlib.suppress(OSError):
            (leases(self.cache) / f"{self._name}.keys").unlink(missing_ok=True)
        self._held.release()
        with contextlib.suppress(OSError):
            (leases(self.cache) / f"{self._name}.lock").unlink(missing_ok=True)

    def lookup(self, job: BuildJob, site: BuildSite) -> Entry | None:
        """`lookup`, and the entry found leased to this build."""
        try:
            lock = cache_lock(self.cache)
        except OSError:
            lock = None
        if self._held is None or lock is None:
            return lookup(self.cache, job, site)
        with lock:
            entry = lookup(self.cache, job, site)
            if entry is not None:
                self.keys.append(entry.key)
                (leases(self.cache) / f"{self._name}.keys").write_text(
                    "".join(f"{key}\n" for key in self.keys), encoding="utf-8")
        return entry


def leased(cache: Path) -> set[str]:
    """The keys that running builds hold (call it under `cache_lock`); the leases of runs that
    died are removed."""
    keys: set[str] = set()
    try:
        locks = sorted(p for p in leases(cache).glob("*.lock") if p.name != "lock")
    except OSError:
        return keys
    for path in locks:
        listing = path.with_suffix(".keys")
        probe = FileLock(path)
        try:
            probe.acquire(timeout=0)
        except Timeout:
            with contextlib.suppress(OSError):
                keys.update(listing.read_text(encoding="utf-8").split())
            continue
        except OSError:
            continue
        # Free: its run ended without removing it (killed).
        with contextlib.suppress(OSError):
            listing.unlink(missing_ok=True)
        probe.release()
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
    return keys


def sweep(cache: Path, *, older_than: float = STALE_SECONDS) -> None:
    """Remove temporary folders that runs killed half-way through a write left behind."""
    try:
        found = [p for p in cache.iterdir() if p.name.startswith(TEMPORARY_MARK)]
    except OSError:
        return
    now = time.time()
    for path in found:
        try:
            if now - path.stat().st_mtime > older_than:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
