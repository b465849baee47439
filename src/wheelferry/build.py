"""`build`: one wheel per pin of the locks, made in the target image, checked, checksummed, and
swapped in as a whole.

Planning (pure): which pins can reuse the wheel already in the wheelhouse (same pin, same hash
from the lock, same image, same build settings, file intact) and which must be fetched or built.
Execution: the rest is fetched and built in the target's container (fetch.py), then the staging
folder is assembled (reused wheels hard-linked), checksummed and swapped in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from wheelferry import fetch, project
from wheelferry import manifest as mf
from wheelferry import wheelhouse as wh
from wheelferry.config import Options
from wheelferry.elfcheck import describe, glibc_needs, too_new
from wheelferry.engine import Engine
from wheelferry.errors import BuildError
from wheelferry.fetch import BuildJob
from wheelferry.files import sha256_file
from wheelferry.overrides import BuildOverride
from wheelferry.provided import Provided
from wheelferry.report import Reporter, format_size
from wheelferry.requirements import Pin, merge
from wheelferry.target import Target


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


def build_job(pin: Pin, override: BuildOverride | None,
              pinned: Mapping[NormalizedName, Pin],
              build_pins: tuple[Pin, ...] = ()) -> BuildJob:
    """The job for a pin, with its override's build requirements split into those the lock pins
    (built against exactly that version) and the rest. With a build lock (`build_pins`), every
    build requirement is installed from it, hash-checked, and nothing is left unlocked."""
    locked: list[str] = []
    unlocked: list[str] = []
    if override is not None:
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
    key_data = {
        "override": None if override is None else [
            [str(r) for r in override.build_requires], override.no_build_isolation],
        "locked": sorted(locked),
    }
    build_key = hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()[:16]
    return BuildJob(pin, build_key, override, tuple(locked), tuple(unlocked))


def intact_in(wheelhouse: Path) -> Callable[[mf.WheelRecord], bool]:
    """Whether a recorded wheel is still in the wheelhouse, byte for byte."""

    def intact(record: mf.WheelRecord) -> bool:
        path = wheelhouse / record.file
        return path.is_file() and sha256_file(path) == record.sha256

    return intact


def plan_build(options: Options, target_image_id: str,
               locks: tuple[tuple[Path, tuple[Pin, ...]], ...],
               old: mf.Manifest | None,
               intact: Callable[[mf.WheelRecord], bool],
               build_pins: tuple[Pin, ...] = (),
               provided: Provided | None = None) -> BuildPlan:
    pins = merge(pins for _, pins in locks)
    by_name = {pin.name: pin for pin in pins}
    pin_locks: dict[NormalizedName, list[str]] = {}
    for lock, lock_pin_set in locks:
        for pin in lock_pin_set:
            pin_locks.setdefault(pin.name, []).append(project.relative(options, lock))
    reuse: list[mf.WheelRecord] = []
    jobs: list[BuildJob] = []
    left_out: list[Pin] = []
    for pin in pins:
        if provided is not None and provided.version(pin.name) == pin.version:
            left_out.append(pin)
            continue
        job = build_job(pin, project.override_for(options, pin.name), by_name, build_pins)
        record = old.wheel(pin.name) if old and old.target.image_id == target_image_id else None
        if record is not None and _reusable(record, pin, job) and intact(record):
            reuse.append(record)
        else:
            jobs.append(job)
    return BuildPlan(pins=pins, locks=tuple(sorted(project.lock_sums(options).items())),
                     pin_locks=tuple((n, tuple(ls)) for n, ls in sorted(pin_locks.items())),
                     reuse=tuple(reuse), jobs=tuple(jobs), provided=tuple(left_out),
                     provided_source=provided.source if provided is not None else "")


def _reusable(record: mf.WheelRecord, pin: Pin, job: BuildJob) -> bool:
    if record.version != str(pin.version):
        return False
    if record.origin == "downloaded":
        return pin.allows(record.sha256)
    return (record.sdist is not None and pin.allows(record.sdist.sha256)
            and record.build_key == job.build_key)


def glibc_too_new(folder: Path, files: Iterable[str], platform_glibc: str) -> list[str]:
    """One line per compiled file among `files` that needs a newer glibc than the platform's:
    such a wheel builds and passes here, then fails to load there."""
    needs = [need for file in files for need in glibc_needs(folder / file)]
    return [describe(need, platform_glibc) for need in too_new(needs, platform_glibc)]


def check_platform_glibc(folder: Path, files: Iterable[str], platform_glibc: str) -> None:
    """Refuse a new wheelhouse that the platform's glibc cannot load."""
    refused = glibc_too_new(folder, files, platform_glibc)
    if refused:
        raise BuildError(
            f"{len(refused)} compiled file(s) need a newer C library (glibc) than the "
            f"platform's {platform_glibc}; they would not load there.",
            hint="Build in an image whose glibc is not newer than the platform's (set 'image' "
            "to one based on the platform's OS release), or pin releases built for older "
            "systems. The previous wheelhouse is unchanged.",
            details="\n".join(refused))


def execute(engine: Engine, options: Options, target: Target, plan: BuildPlan,
            reporter: Reporter, *, jobs: int = 0,
            platform_glibc: str | None = None) -> mf.Manifest:
    """Fetch and build what the plan says, assemble and swap in the new wheelhouse."""
    wheelhouse = options.wheelhouse
    pin_locks = dict(plan.pin_locks)
    # Build requirements found by locking (not configured): recorded as such.
    discovered = {name: needs for name, needs in project.discovered(options).items()
                  if options.override_for(name) is None}
    records: list[mf.WheelRecord] = []
    rows: list[tuple[str, ...]] = []
    with wh.staged(wheelhouse) as staging:
        for reused in plan.reuse:
            record = dataclasses.replace(
                reused, locks=pin_locks.get(canonicalize_name(reused.name), ()))
            wh.place(wheelhouse / record.file, staging / record.file)
            records.append(record)
            rows.append((record.name, record.version, "reused", format_size(record.size), "-"))
        if plan.jobs:
            work = staging / ".work"
            work.mkdir()
            with reporter.step(f"fetching and building {len(plan.jobs)} package(s) in "
                               f"{options.image}"):
                fetched = fetch.fetch_and_build(engine, options, target, plan.jobs, work, reporter,
                                          jobs=jobs)
            for build, item, source in fetched:
                final = staging / item["file"]
                source.replace(final)
                sdist = item.get("sdist")
                records.append(mf.WheelRecord(
                    name=build.pin.name, version=str(build.pin.version), file=item["file"],
                    sha256=sha256_file(final), size=final.stat().st_size,
                    origin=item["origin"],
                    sdist=mf.SdistRecord(**sdist) if sdist else None,
                    build_requires=tuple(item.get("build_requires", ())),
                    build_key=build.build_key,
                    locks=pin_locks.get(build.pin.name, ()),
                    discovered_build_requires=discovered.get(build.pin.name, ()),
                    dated_build_requires=tuple(
                        str(r) for r in item.get("dated_build_requires", ())),
                ))
                found = discovered.get(build.pin.name)
                origin = f"{item['origin']} (with {', '.join(found)})" if found \
                    else item["origin"]
                if records[-1].dated_build_requires:
                    # It built only with the build tools of its release date: say so.
                    origin += f" (build tools of {item.get('dated_build_date', 'its date')})"
                rows.append((build.pin.name, str(build.pin.version), origin,
                             format_size(records[-1].size), f"{item.get('seconds', 0)} s"))
            shutil.rmtree(work)
        records.sort(key=lambda r: r.name)
        if platform_glibc:
            check_platform_glibc(staging, [r.file for r in records], platform_glibc)
        manifest = mf.Manifest(
            target=mf.TargetRecord(python=options.python, version=target.version,
                                   image=options.image, image_id=target.image.id,
                                   image_digest=target.image.digest, tags=target.tags,
                                   arch=options.arch),
            locks=plan.locks,
            wheels=tuple(records),
            provided=tuple((pin.name, str(pin.version)) for pin in plan.provided),
            provided_source=plan.provided_source if plan.provided else "",
        )
        mf.write_metadata(staging, manifest)
        wh.swap_in(staging, wheelhouse)
    rows += [(pin.name, str(pin.version), "provided by the platform", "-", "-")
             for pin in plan.provided]
    rows.sort()
    built = sum(1 for r in records if r.origin == "built")
    total = sum(r.size for r in records)
    footer = (f"{len(records)} wheels ({built} built from sdists, {len(records) - built} "
              f"downloaded), {format_size(total)} in all, for python {target.version} on "
              f"{options.arch}.")
    if plan.provided:
        footer += (f" {len(plan.provided)} pinned package(s) left out: the platform provides "
                   f"them ({plan.provided_source}).")
    reporter.table(f"wheelhouse {wheelhouse}", ("package", "version", "this run", "size",
                                                "time"), rows, footer=footer)
    return manifest
