"""`build`, executed: the plan's (plan.py) wheels to fetch and build are made in the target's
container (fetch.py), checked against the lock (checks.py), then the staging folder is assembled
(reused wheels hard-linked), checksummed and swapped in, and the wheels built from sdists are
added to the wheel cache.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from wheelferry.building import checks, fetch, systemimage
from wheelferry.building import wheelcache as wc
from wheelferry.building.fetch import BuildJob
from wheelferry.building.outcome import BuildOutcome
from wheelferry.building.plan import BuildPlan, build_job
from wheelferry.core.files import sha256_file
from wheelferry.core.report import Reporter, format_size
from wheelferry.engine.client import Engine
from wheelferry.locking.project import Project
from wheelferry.project import layout
from wheelferry.project import manifest as mf
from wheelferry.project import wheelhouse as wh
from wheelferry.project.options import Options
from wheelferry.project.requirements import Pin
from wheelferry.target.elfcheck import check_platform_glibc
from wheelferry.target.image import Target


def _origin(origin: str, found: tuple[str, ...] | None, dated_date: str | None) -> str:
    """How a wheel came to be, for the build summary."""
    text = f"{origin} (with {', '.join(found)})" if found else origin
    if dated_date is not None:
        # It built only with the build tools of its release date: say so.
        text += f" (build tools of {dated_date or 'its date'})"
    return text


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


def _store_built(cache: Path, built: list[tuple[BuildJob, mf.WheelRecord, BuildOutcome]],
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
                     dated_build_date=item.dated_build_date, seconds=item.seconds)
    except OSError as exc:
        reporter.warn(f"could not add the wheels built from sdists to the wheel cache {cache} "
                      f"({exc}); the next project that needs them builds them again.")


# Re-makes the build lock with what building found sdists to import undeclared (package ->
# distributions); returns the project as the new build lock stands.
Relock = Callable[[Mapping[str, tuple[str, ...]]], Project]


def _in_build_images(engine: Engine, options: Options, target: Target,
                     to_build: list[BuildJob], work: Path, reporter: Reporter, *, jobs: int,
                     locked: tuple[Pin, ...], platform_libraries: tuple[str, ...] | None = None
                     ) -> list[tuple[BuildJob, BuildOutcome, Path]]:
    """Fetch and build `to_build` in one container per set of OS packages their builds need
    (the toolchain image itself for none); each result records the packages' versions."""
    groups: dict[tuple[str, ...], list[BuildJob]] = {}
    for job in to_build:
        groups.setdefault(job.system_packages, []).append(job)
    fetched: list[tuple[BuildJob, BuildOutcome, Path]] = []
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
            fetched.append((job, dataclasses.replace(item, system_packages=installed), source))
    return fetched


def _fetch_and_build(engine: Engine, project: Project, target: Target, plan: BuildPlan,
                     to_build: list[BuildJob], work: Path, reporter: Reporter, *, jobs: int,
                     relock: Relock | None, platform_libraries: tuple[str, ...] | None = None
                     ) -> tuple[list[tuple[BuildJob, BuildOutcome, Path]], Project]:
    """Fetch and build `to_build`. A build that needed what its sdist does not declare (found
    by retrying, round after round) is recorded in the build lock, then built once more from it,
    hash-checked, as every later build of it will be. The project as its locks then stand."""
    options = project.options
    fetched = _in_build_images(engine, options, target, to_build, work, reporter, jobs=jobs,
                               locked=plan.pins, platform_libraries=platform_libraries)
    found: dict[str, tuple[str, ...]] = {
        str(build.pin.name): item.discovered
        for build, item, _ in fetched if item.discovered and not item.dated_build_requires}
    if not found or relock is None:
        return fetched, project
    reporter.info("; ".join(f"{name}'s build imports {', '.join(needs)} without declaring it"
                            for name, needs in sorted(found.items()))
                  + ": recorded in the build lock, and built again from it, hash-checked")
    project = relock(found)
    by_name = {pin.name: pin for pin in plan.pins}
    again = [build_job(build.pin, project.override_for(build.pin.name), by_name,
                       project.build_pins, system_packages=options.build.system_packages,
                       found=options.build.configured(build.pin.name) is None)
             for build, _, _ in fetched if build.pin.name in found]
    second = work.with_name(work.name + "-again")
    second.mkdir()
    with reporter.step(f"building {len(again)} package(s) again with what they import, "
                       "from the build lock"):
        rebuilt = _in_build_images(engine, options, target, again, second, reporter,
                                   jobs=jobs, locked=plan.pins,
                                   platform_libraries=platform_libraries)
    return [entry for entry in fetched if entry[0].pin.name not in found] + rebuilt, project


def execute(engine: Engine, project: Project, target: Target, plan: BuildPlan,
            reporter: Reporter, *, jobs: int = 0,
            platform_glibc: str | None = None, wheel_cache: Path | None = None,
            relock: Relock | None = None,
            platform_libraries: tuple[str, ...] | None = None) -> mf.Manifest:
    """Fetch and build what the plan says, assemble and swap in the new wheelhouse; with
    `wheel_cache`, the wheels built from sdists are added to it; with `relock`, what builds are
    found to import undeclared is recorded in the build lock and built from it;
    `platform_libraries`: the sonames the platform has (None: unknown, only the C runtime's
    core counts as there), for the libraries wheels built from sdists carry."""
    options = project.options
    wheelhouse = options.wheelhouse
    pin_locks = dict(plan.pin_locks)
    # Build requirements found by locking (not configured): recorded as such.
    discovered = project.found_unconfigured()
    records: list[mf.WheelRecord] = []
    rows: list[tuple[str, ...]] = []
    built_here: list[tuple[BuildJob, mf.WheelRecord, BuildOutcome]] = []
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
                               f"{options.target.image}"):
                fetched, project = _fetch_and_build(
                    engine, project, target, plan, to_build, work, reporter, jobs=jobs,
                    relock=relock, platform_libraries=platform_libraries)
            checks.raise_broken_as_published(fetched)
            checks.raise_lock_gaps(fetched)
            # As the build lock now stands: building may have found what sdists import undeclared.
            discovered = project.found_unconfigured()
            for build, item, source in fetched:
                final = staging / item.file
                source.replace(final)
                records.append(mf.WheelRecord(
                    name=build.pin.name, version=str(build.pin.version), file=item.file,
                    sha256=sha256_file(final), size=final.stat().st_size,
                    origin=item.made, sdist=item.sdist, build_requires=item.build_requires,
                    build_key=build.build_key,
                    locks=pin_locks.get(build.pin.name, ()),
                    discovered_build_requires=discovered.get(build.pin.name, ()),
                    dated_build_requires=item.dated_build_requires,
                    system_packages=item.system_packages,
                    carried_libraries=item.carried,
                    left_out=item.left_out.record() if item.left_out else (),
                ))
                if records[-1].left_out:
                    reporter.warn(left_out_warning(records[-1]))
                if item.discovered and not discovered.get(build.pin.name):
                    # Found by a build that then needed the tools of its day too.
                    records[-1] = dataclasses.replace(records[-1],
                                                      discovered_build_requires=item.discovered)
                if records[-1].origin == "built" and records[-1].sdist is not None:
                    built_here.append((build, records[-1], item))
                origin = _origin(item.made, discovered.get(build.pin.name),
                                 item.dated_build_date
                                 if records[-1].dated_build_requires else None)
                rows.append((build.pin.name, str(build.pin.version), origin,
                             format_size(records[-1].size), f"{item.seconds:g} s"))
            shutil.rmtree(work)
            for leftover in work.parent.glob(f"{work.name}-*"):
                shutil.rmtree(leftover, ignore_errors=True)
        records.sort(key=lambda r: r.name)
        if platform_glibc:
            check_platform_glibc(staging, [r.file for r in records], platform_glibc)
        manifest = mf.Manifest(
            target=mf.TargetRecord(python=options.target.python, version=target.version,
                                   image=options.target.image, image_id=target.image.id,
                                   image_digest=target.image.digest, tags=target.tags,
                                   arch=options.target.arch),
            # As they are now: building may have re-made the build lock.
            locks=tuple(sorted(layout.lock_sums(options).items())),
            wheels=tuple(records),
            provided=tuple((pin.name, str(pin.version)) for pin in plan.provided),
            provided_source=plan.provided_source if plan.provided else "",
        )
        mf.write_metadata(staging, manifest)
        if wheel_cache is not None and built_here:
            # Before the swap: an interruption here still leaves the previous wheelhouse.
            _store_built(wheel_cache, built_here,
                         wc.BuildSite.of(target, options.target.arch, platform_libraries),
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
              f"{target.version} on {options.target.arch}.")
    if plan.provided:
        footer += (f" {len(plan.provided)} pinned package(s) left out: the platform provides "
                   f"them ({plan.provided_source}).")
    reporter.table(f"wheelhouse {wheelhouse}", ("package", "version", "this run", "size",
                                                "time"), rows, footer=footer)
    return manifest
