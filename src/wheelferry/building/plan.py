"""Planning a build (pure): which pins can reuse the wheel already in the wheelhouse (same pin,
same hash from the lock, same image, same build settings, file intact), which can take a wheel
built earlier from the same sdist the same way from the user's wheel cache, which the platform
provides (left out), and which must be fetched or built; and each job's build requirements and
build key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from wheelferry.building import wheelcache as wc
from wheelferry.building.fetch import BuildJob
from wheelferry.core.errors import BuildError
from wheelferry.core.files import sha256_file
from wheelferry.locking.project import Project
from wheelferry.project import layout
from wheelferry.project import manifest as mf
from wheelferry.project.overrides import BuildOverride
from wheelferry.project.requirements import Pin, merge


@dataclass(frozen=True)
class BuildPlan:
    pins: tuple[Pin, ...]
    locks: tuple[tuple[str, str], ...]
    pin_locks: tuple[tuple[NormalizedName, tuple[str, ...]], ...]
    reuse: tuple[mf.WheelRecord, ...]
    jobs: tuple[BuildJob, ...]
    # Pins the platform provides at exactly that version: left out of the wheelhouse.
    provided: tuple[Pin, ...] = ()
    provided_source: str = ""
    # Pins whose wheel, built earlier from the same sdist the same way, is in the wheel cache.
    cached: tuple[tuple[BuildJob, wc.Entry], ...] = ()


def build_job(pin: Pin, override: BuildOverride | None,
              pinned: Mapping[NormalizedName, Pin],
              build_pins: tuple[Pin, ...] = (), *,
              system_packages: tuple[str, ...] = (), found: bool = False) -> BuildJob:
    """The job for a pin, with its override's build requirements split into those the lock pins
    (built against exactly that version) and the rest. With a build lock (`build_pins`), every
    build requirement is installed from it, hash-checked, and nothing is left unlocked.
    `found`: the override is what an earlier build or lock found, not configured."""
    locked: list[str] = []
    unlocked: list[str] = []
    if override is not None and override.states_build_environment:
        named = set()
        for requirement in override.build_requires:
            name = canonicalize_name(requirement.name)
            named.add(name)
            lock_pin = pinned.get(name)
            if lock_pin is None:
                unlocked.append(str(requirement))
            elif not requirement.specifier.contains(lock_pin.version, prereleases=True):
                raise BuildError(
                    f"the override for {override.name} asks to build with {requirement}, but the "
                    f"lock pins {name} {lock_pin.version}, which would then ship beside it.",
                    hint="Build against the version you ship: relax the build requirement, or "
                    "pin the runtime to match in your .in file.",
                )
            else:
                locked.append(lock_pin.line)
        if override.no_build_isolation:
            unlocked += [tool for tool in ("setuptools", "wheel") if tool not in named]
        if build_pins:
            locked = sorted(p.line for p in build_pins)
            unlocked = []
    system = tuple(sorted({*system_packages,
                           *(override.system_packages if override is not None else ())}))
    key_data: dict[str, Any] = {
        "override": None if override is None or not override.states_build_environment else [
            [str(r) for r in override.build_requires], override.no_build_isolation],
        "locked": sorted(locked),
    }
    if system:  # only when set: wheels built before the setting existed stay reusable
        key_data["system_packages"] = list(system)
    build_key = hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()[:16]
    return BuildJob(pin, build_key, override, tuple(locked), tuple(unlocked), system,
                    found=found and bool(locked or unlocked))


def intact_in(wheelhouse: Path) -> Callable[[mf.WheelRecord], bool]:
    """Whether a recorded wheel is still in the wheelhouse, byte for byte."""

    def intact(record: mf.WheelRecord) -> bool:
        path = wheelhouse / record.file
        return path.is_file() and sha256_file(path) == record.sha256

    return intact


def plan_build(project: Project, target_image_id: str,
               locks: tuple[tuple[Path, tuple[Pin, ...]], ...],
               old: mf.Manifest | None,
               intact: Callable[[mf.WheelRecord], bool],
               cached: Callable[[BuildJob], wc.Entry | None] | None = None) -> BuildPlan:
    """What a build does with each pin of `locks`: reuse its wheel, take it from the wheel cache,
    build it (with the project's overrides and build lock), or leave it to the platform."""
    options, build_pins, provided = project.options, project.build_pins, project.provided
    pins = merge(pins for _, pins in locks)
    by_name = {pin.name: pin for pin in pins}
    pin_locks: dict[NormalizedName, list[str]] = {}
    for lock, lock_pin_set in locks:
        for pin in lock_pin_set:
            pin_locks.setdefault(pin.name, []).append(layout.relative(options, lock))
    reuse: list[mf.WheelRecord] = []
    jobs: list[BuildJob] = []
    hits: list[tuple[BuildJob, wc.Entry]] = []
    left_out: list[Pin] = []
    for pin in pins:
        if provided is not None and provided.version(pin.name) == pin.version:
            left_out.append(pin)
            continue
        job = build_job(pin, project.override_for(pin.name), by_name, build_pins,
                        system_packages=options.build.system_packages,
                        found=options.build.configured(pin.name) is None)
        record = old.wheel(pin.name) if old and old.target.image_id == target_image_id else None
        if record is not None and _reusable(record, pin, job) and intact(record):
            reuse.append(record)
            continue
        entry = cached(job) if cached is not None else None
        if entry is not None:
            hits.append((job, entry))
        else:
            jobs.append(job)
    return BuildPlan(pins=pins, locks=tuple(sorted(layout.lock_sums(options).items())),
                     pin_locks=tuple((n, tuple(ls)) for n, ls in sorted(pin_locks.items())),
                     reuse=tuple(reuse), jobs=tuple(jobs), provided=tuple(left_out),
                     provided_source=provided.source if provided is not None else "",
                     cached=tuple(hits))


def _reusable(record: mf.WheelRecord, pin: Pin, job: BuildJob) -> bool:
    if record.version != str(pin.version):
        return False
    if record.origin == "downloaded":
        return pin.allows(record.sha256)
    return (record.sdist is not None and pin.allows(record.sdist.sha256)
            and record.build_key == job.build_key)
