"""`build`: one wheel per pin of the locks, made in the target image, checked, checksummed, and
swapped in as a whole.

Planning (pure): which pins can reuse the wheel already in the wheelhouse (same pin, same hash
from the lock, same image, same build settings, file intact), which can take a wheel built earlier
from the same sdist the same way from the user's wheel cache (wheelcache.py), and which must be
fetched or built. Execution: the rest is fetched and built in the target's container (fetch.py),
then the staging folder is assembled (reused wheels hard-linked), checksummed and swapped in, and
the wheels built from sdists are added to the wheel cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from wheelferry.building import fetch, systemimage
from wheelferry.building import wheelcache as wc
from wheelferry.building.fetch import BuildJob
from wheelferry.core.errors import BuildError, LockGapError
from wheelferry.core.files import sha256_file
from wheelferry.core.report import Reporter, format_size
from wheelferry.engine.client import Engine
from wheelferry.incontainer.system_needs import SystemNeed
from wheelferry.project import layout as project
from wheelferry.project import manifest as mf
from wheelferry.project import wheelhouse as wh
from wheelferry.project.config import Options
from wheelferry.project.overrides import BuildOverride
from wheelferry.project.requirements import Pin, merge
from wheelferry.target.elfcheck import describe, glibc_needs, too_new
from wheelferry.target.image import Target
from wheelferry.target.provided import Provided


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


def plan_build(options: Options, target_image_id: str,
               locks: tuple[tuple[Path, tuple[Pin, ...]], ...],
               old: mf.Manifest | None,
               intact: Callable[[mf.WheelRecord], bool],
               build_pins: tuple[Pin, ...] = (),
               provided: Provided | None = None,
               cached: Callable[[BuildJob], wc.Entry | None] | None = None) -> BuildPlan:
    pins = merge(pins for _, pins in locks)
    by_name = {pin.name: pin for pin in pins}
    pin_locks: dict[NormalizedName, list[str]] = {}
    for lock, lock_pin_set in locks:
        for pin in lock_pin_set:
            pin_locks.setdefault(pin.name, []).append(project.relative(options, lock))
    reuse: list[mf.WheelRecord] = []
    jobs: list[BuildJob] = []
    hits: list[tuple[BuildJob, wc.Entry]] = []
    left_out: list[Pin] = []
    for pin in pins:
        if provided is not None and provided.version(pin.name) == pin.version:
            left_out.append(pin)
            continue
        job = build_job(pin, project.override_for(options, pin.name), by_name, build_pins,
                        system_packages=options.system_packages,
                        found=options.override_for(pin.name) is None)
        record = old.wheel(pin.name) if old and old.target.image_id == target_image_id else None
        if record is not None and _reusable(record, pin, job) and intact(record):
            reuse.append(record)
            continue
        entry = cached(job) if cached is not None else None
        if entry is not None:
            hits.append((job, entry))
        else:
            jobs.append(job)
    return BuildPlan(pins=pins, locks=tuple(sorted(project.lock_sums(options).items())),
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


def _origin(origin: str, found: tuple[str, ...] | None, dated_date: str | None) -> str:
    """How a wheel came to be, for the build summary."""
    text = f"{origin} (with {', '.join(found)})" if found else origin
    if dated_date is not None:
        # It built only with the build tools of its release date: say so.
        text += f" (build tools of {dated_date or 'its date'})"
    return text


def _left_out(item: Mapping[str, Any]) -> tuple[str, ...]:
    """(what the build lacked, the OS package that brings it, and the compiled modules its
    published wheels have that it lacks) when it left out a compiled part; each may be ""."""
    lacking = item.get("left_out")
    if not isinstance(lacking, dict):
        return ()
    need = SystemNeed(str(lacking.get("kind", "")), str(lacking.get("name", "")),
                      str(lacking.get("package", "")))
    return (need.describe() if need.kind else "", need.package,
            *(str(module) for module in lacking.get("modules", ())))


def left_out_warning(record: mf.WheelRecord) -> str:
    """What the user is told of a wheel built without a compiled part: an optional one its
    build left out for want of an OS part, or modules its published wheels have."""
    lacking, package, *modules = (*record.left_out, "")[:max(2, len(record.left_out))]
    what = (f"the compiled module(s) {', '.join(modules)}, which its published wheels have"
            if modules else "its optional compiled part")
    cause = (f"its build lacked {lacking} from the operating system, and left out what needs "
             "it" if lacking else "its build log shows no cause; look there for what it "
             "skipped, usually an OS library it did not find")
    needed = (f"the OS package that provides {lacking.split(' ', 2)[-1]}" if lacking
              else "the OS package its compiled part needs")
    fix = (f"[tool.wheelferry.overrides.{record.name}]\nsystem-packages = [\"{package}\"]"
           if package else f"[tool.wheelferry.overrides.{record.name}]\nsystem-packages = "
           f"[\"PACKAGE\"] ({needed})")
    return (f"{record.name} {record.version} was built without {what}: {cause} (a slower "
            f"pure-Python path, or a module that will not import). To build it in, add to "
            f"pyproject.toml:\n{fix}")


def cached_record(job: BuildJob, entry: wc.Entry, *, locks: tuple[str, ...],
                  discovered: tuple[str, ...]) -> mf.WheelRecord:
    """The manifest's record of a wheel taken from the wheel cache: as complete as that of one
    built here (the sdist, what its build installed), and where it came from."""
    return mf.WheelRecord(
        name=job.pin.name, version=str(job.pin.version), file=entry.file, sha256=entry.sha256,
        size=entry.size, origin="built", sdist=entry.sdist, build_requires=entry.build_requires,
        build_key=job.build_key, locks=locks, discovered_build_requires=discovered,
        dated_build_requires=entry.dated_build_requires, from_wheel_cache=entry.key)


def _store_built(cache: Path, built: list[tuple[BuildJob, mf.WheelRecord, dict[str, Any]]],
                 site: wc.BuildSite, folder: Path, reporter: Reporter) -> None:
    """Add the wheels built from sdists in this run to the wheel cache. The cache only saves
    time: a cache that cannot be written is a warning, never a failed build."""
    wc.sweep(cache)
    try:
        for job, record, item in built:
            assert record.sdist is not None
            wc.store(cache, key_facts=wc.key_data(record.sdist.sha256, job, site),
                     wheel=folder / record.file, sha256=record.sha256, sdist=record.sdist,
                     build_requires=record.build_requires,
                     dated_build_requires=record.dated_build_requires,
                     dated_build_date=str(item.get("dated_build_date", "")),
                     seconds=float(item.get("seconds", 0.0)))
    except OSError as exc:
        reporter.warn(f"could not add the wheels built from sdists to the wheel cache {cache} "
                      f"({exc}); the next project that needs them builds them again.")


# Re-makes the build lock with what building found sdists to import undeclared (package ->
# distributions); returns the build lock's pins.
Relock = Callable[[Mapping[str, tuple[str, ...]]], tuple[Pin, ...]]


def _in_build_images(engine: Engine, options: Options, target: Target,
                     to_build: list[BuildJob], work: Path, reporter: Reporter, *, jobs: int,
                     locked: tuple[Pin, ...], platform_libraries: tuple[str, ...] | None = None
                     ) -> list[tuple[BuildJob, dict[str, Any], Path]]:
    """Fetch and build `to_build` in one container per set of OS packages their builds need
    (the toolchain image itself for none); each result records the packages' versions."""
    groups: dict[tuple[str, ...], list[BuildJob]] = {}
    for job in to_build:
        groups.setdefault(job.system_packages, []).append(job)
    fetched: list[tuple[BuildJob, dict[str, Any], Path]] = []
    for number, (packages, group) in enumerate(sorted(groups.items())):
        image = None
        installed: tuple[str, ...] = ()
        if packages:
            made = systemimage.ensure(engine, options, toolchain=target.toolchain,
                                      packages=packages, log=reporter.info,
                                      on_line=reporter.output)
            image, installed = made.reference, made.installed
        folder = work if number == 0 else work.with_name(f"{work.name}-{number}")
        folder.mkdir(exist_ok=True)
        for job, item, source in fetch.fetch_and_build(engine, options, target, group, folder,
                                                       reporter, jobs=jobs, locked=locked,
                                                       image=image,
                                                       platform_libraries=platform_libraries):
            if installed:
                item["system_packages"] = list(installed)
            fetched.append((job, item, source))
    return fetched


def _raise_broken_as_published(
        fetched: Sequence[tuple[BuildJob, dict[str, Any], Path]]) -> None:
    """Raise BuildError for a wheel whose requirements sit where no installer reads them (the
    description of its METADATA): installed, it would bring nothing it stands for."""
    broken = [(build.pin, [str(r) for r in item["hidden_requires"]])
              for build, item, _ in fetched if item.get("hidden_requires")]
    if not broken:
        return
    raise BuildError(
        " ".join(f"{pin.name} {pin.version} is broken as published: the wheel built from its "
                 f"sdist requires {', '.join(hidden)} only in its description (a blank line in "
                 "an earlier field of its metadata ended the headers), where no installer reads "
                 "it, so installing it brings nothing it stands for."
                 for pin, hidden in broken),
        hint="Require what it stands for instead: in your requirements file, replace "
        + "; ".join(f"{pin.name} with "
                    + ", ".join(_requirement_name(text) for text in hidden)
                    for pin, hidden in broken)
        + ". The previous wheelhouse is unchanged.")


def _requirement_name(text: str) -> str:
    try:
        return str(canonicalize_name(Requirement(text).name))
    except InvalidRequirement:
        return text.split(";")[0].strip()


def _raise_lock_gaps(fetched: Sequence[tuple[BuildJob, dict[str, Any], Path]]) -> None:
    """Raise LockGapError when built wheels need the lock to change: a wheel that requires what
    the lock does not pin (its sdist's metadata, which the resolver read, did not say so), or an
    sdist that builds only against an older major release of what the lock pins (numpy<2)."""
    unlocked = {str(build.pin.name): tuple(str(r) for r in item["unlocked_requires"])
                for build, item, _ in fetched if item.get("unlocked_requires")}
    bounded = {str(build.pin.name): tuple(str(r) for r in item["requires_bound"])
               for build, item, _ in fetched if item.get("requires_bound")}
    if not unlocked and not bounded:
        return
    said = [f"the wheel built from {name}'s sdist requires {', '.join(needs)}, which the lock "
            "does not pin: its sdist's metadata, which the resolver read, does not say so"
            for name, needs in sorted(unlocked.items())]
    said += [f"the sdist of {name}, older than the lock's "
             f"{', '.join(b.split('<')[0] for b in bounds)}, builds only against "
             f"{', '.join(bounds)}, with the build tools of its day"
             for name, bounds in sorted(bounded.items())]
    gaps = dict(unlocked)
    for name, bounds in bounded.items():
        gaps[name] = gaps.get(name, ()) + bounds
    raise LockGapError(
        "; ".join(said) + ".", gaps=gaps,
        hint="Add what it requires to the requirements file that holds it; the previous "
        "wheelhouse is unchanged.")


def _fetch_and_build(engine: Engine, options: Options, target: Target, plan: BuildPlan,
                     to_build: list[BuildJob], work: Path, reporter: Reporter, *, jobs: int,
                     relock: Relock | None, platform_libraries: tuple[str, ...] | None = None
                     ) -> list[tuple[BuildJob, dict[str, Any], Path]]:
    """Fetch and build `to_build`. A build that needed what its sdist does not declare (found
    by retrying, round after round) is recorded in the build lock, then built once more from it,
    hash-checked, as every later build of it will be."""
    fetched = _in_build_images(engine, options, target, to_build, work, reporter, jobs=jobs,
                               locked=plan.pins, platform_libraries=platform_libraries)
    found: dict[str, tuple[str, ...]] = {
        str(build.pin.name): tuple(str(n) for n in item["discovered"])
        for build, item, _ in fetched
        if item.get("discovered") and not item.get("dated_build_requires")}
    if not found or relock is None:
        return fetched
    reporter.info("; ".join(f"{name}'s build imports {', '.join(needs)} without declaring it"
                            for name, needs in sorted(found.items()))
                  + ": recorded in the build lock, and built again from it, hash-checked")
    build_pins = relock(found)
    by_name = {pin.name: pin for pin in plan.pins}
    again = [build_job(build.pin, project.override_for(options, build.pin.name), by_name,
                       build_pins, system_packages=options.system_packages,
                       found=options.override_for(build.pin.name) is None)
             for build, _, _ in fetched if build.pin.name in found]
    second = work.with_name(work.name + "-again")
    second.mkdir()
    with reporter.step(f"building {len(again)} package(s) again with what they import, "
                       "from the build lock"):
        rebuilt = _in_build_images(engine, options, target, again, second, reporter,
                                   jobs=jobs, locked=plan.pins,
                                   platform_libraries=platform_libraries)
    return [entry for entry in fetched if entry[0].pin.name not in found] + rebuilt


def execute(engine: Engine, options: Options, target: Target, plan: BuildPlan,
            reporter: Reporter, *, jobs: int = 0,
            platform_glibc: str | None = None, wheel_cache: Path | None = None,
            relock: Relock | None = None,
            platform_libraries: tuple[str, ...] | None = None) -> mf.Manifest:
    """Fetch and build what the plan says, assemble and swap in the new wheelhouse; with
    `wheel_cache`, the wheels built from sdists are added to it; with `relock`, what builds are
    found to import undeclared is recorded in the build lock and built from it;
    `platform_libraries`: the sonames the platform has (None: unknown, only the C runtime's
    core counts as there), for the libraries wheels built from sdists carry."""
    wheelhouse = options.wheelhouse
    pin_locks = dict(plan.pin_locks)
    # Build requirements found by locking (not configured): recorded as such.
    discovered = {name: needs for name, needs in project.discovered(options).items()
                  if options.override_for(name) is None}
    records: list[mf.WheelRecord] = []
    rows: list[tuple[str, ...]] = []
    built_here: list[tuple[BuildJob, mf.WheelRecord, dict[str, Any]]] = []
    with wh.staged(wheelhouse) as staging:
        for reused in plan.reuse:
            record = dataclasses.replace(
                reused, locks=pin_locks.get(canonicalize_name(reused.name), ()))
            wh.place(wheelhouse / record.file, staging / record.file)
            records.append(record)
            rows.append((record.name, record.version, "reused", format_size(record.size), "-"))
        to_build = list(plan.jobs)
        taken = 0
        for job, entry in plan.cached:
            if not wc.take(entry, staging / entry.file):
                reporter.warn(f"{entry.file} in the wheel cache no longer matches its record; "
                              f"the entry was removed and {job.pin.name} is built again.")
                to_build.append(job)
                continue
            taken += 1
            records.append(cached_record(job, entry, locks=pin_locks.get(job.pin.name, ()),
                                         discovered=discovered.get(job.pin.name, ())))
            origin = _origin("built", discovered.get(job.pin.name),
                             entry.dated_build_date if entry.dated_build_requires else None)
            rows.append((job.pin.name, str(job.pin.version), f"{origin} (from the wheel cache)",
                         format_size(entry.size), "-"))
        if to_build:
            work = staging / ".work"
            work.mkdir()
            with reporter.step(f"fetching and building {len(to_build)} package(s) in "
                               f"{options.image}"):
                fetched = _fetch_and_build(engine, options, target, plan, to_build, work,
                                           reporter, jobs=jobs, relock=relock,
                                           platform_libraries=platform_libraries)
            _raise_broken_as_published(fetched)
            _raise_lock_gaps(fetched)
            # Re-read: building may have found what sdists import undeclared.
            discovered = {name: needs for name, needs in project.discovered(options).items()
                          if options.override_for(name) is None}
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
                    system_packages=tuple(str(p) for p in item.get("system_packages", ())),
                    carried_libraries=tuple(str(c) for c in item.get("carried", ())),
                    left_out=_left_out(item),
                ))
                if records[-1].left_out:
                    reporter.warn(left_out_warning(records[-1]))
                if item.get("discovered") and not discovered.get(build.pin.name):
                    # Found by a build that then needed the tools of its day too.
                    records[-1] = dataclasses.replace(records[-1], discovered_build_requires=tuple(
                        str(n) for n in item["discovered"]))
                if records[-1].origin == "built" and records[-1].sdist is not None:
                    built_here.append((build, records[-1], item))
                origin = _origin(item["origin"], discovered.get(build.pin.name),
                                 str(item.get("dated_build_date", ""))
                                 if records[-1].dated_build_requires else None)
                rows.append((build.pin.name, str(build.pin.version), origin,
                             format_size(records[-1].size), f"{item.get('seconds', 0)} s"))
            shutil.rmtree(work)
            for leftover in work.parent.glob(f"{work.name}-*"):
                shutil.rmtree(leftover, ignore_errors=True)
        records.sort(key=lambda r: r.name)
        if platform_glibc:
            check_platform_glibc(staging, [r.file for r in records], platform_glibc)
        manifest = mf.Manifest(
            target=mf.TargetRecord(python=options.python, version=target.version,
                                   image=options.image, image_id=target.image.id,
                                   image_digest=target.image.digest, tags=target.tags,
                                   arch=options.arch),
            # As they are now: building may have re-made the build lock.
            locks=tuple(sorted(project.lock_sums(options).items())),
            wheels=tuple(records),
            provided=tuple((pin.name, str(pin.version)) for pin in plan.provided),
            provided_source=plan.provided_source if plan.provided else "",
        )
        mf.write_metadata(staging, manifest)
        if wheel_cache is not None and built_here:
            # Before the swap: an interruption here still leaves the previous wheelhouse.
            _store_built(wheel_cache, built_here,
                         wc.BuildSite.of(target, options.arch, platform_libraries),
                         staging, reporter)
        wh.swap_in(staging, wheelhouse)
    rows += [(pin.name, str(pin.version), "provided by the platform", "-", "-")
             for pin in plan.provided]
    rows.sort()
    built = sum(1 for r in records if r.origin == "built")
    total = sum(r.size for r in records)
    cache_note = f", {taken} of them from the wheel cache" if taken else ""
    footer = (f"{len(records)} wheels ({built} built from sdists{cache_note}, "
              f"{len(records) - built} downloaded), {format_size(total)} in all, for python "
              f"{target.version} on {options.arch}.")
    if plan.provided:
        footer += (f" {len(plan.provided)} pinned package(s) left out: the platform provides "
                   f"them ({plan.provided_source}).")
    reporter.table(f"wheelhouse {wheelhouse}", ("package", "version", "this run", "size",
                                                "time"), rows, footer=footer)
    return manifest
