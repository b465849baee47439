"""One round of the build flow: the build planned from the locks as they are and executed (what
builds find sdists to import undeclared recorded in the build lock on the way); and, when the
wheels built need more than the sdists declared, the locks made again with it before the next
round."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from wheelferry.building import build as building
from wheelferry.building import plan as planning
from wheelferry.building import wheelcache
from wheelferry.core.errors import LockGapError
from wheelferry.core.report import Reporter
from wheelferry.engine.protocol import Engine
from wheelferry.locking import lock as locking
from wheelferry.locking.project import Project
from wheelferry.project import layout as project
from wheelferry.project import manifest as mf
from wheelferry.target import image as targets


@dataclass(frozen=True)
class Built:
    """What a build made: the new wheelhouse's manifest, and the files of the wheels it kept
    as they were (reused)."""

    manifest: mf.Manifest
    reused: frozenset[str] = frozenset()


@dataclass
class BuildRound:
    """Plan the build from the locks as they are, and execute it (what builds find sdists to
    import undeclared is recorded in the build lock on the way). `plan`: the last one made;
    `project`: as the locks stand, made again whenever they are written."""

    project: Project
    engine: Engine
    target: targets.Target
    reporter: Reporter
    lease: wheelcache.Lease | None
    jobs: int
    platform_glibc: str | None
    plan: planning.BuildPlan | None = None
    # The sonames the platform image has (None: not known): what built wheels need not carry.
    platform_libraries: tuple[str, ...] | None = None

    def __call__(self) -> Built:
        options, reporter, lease = self.project.options, self.reporter, self.lease
        site = wheelcache.BuildSite.of(self.target, options.target.arch, self.platform_libraries)
        plan = self.plan = planning.plan_build(
            self.project, self.target.image.id, self.project.lock_pins(),
            mf.read_manifest(options.wheelhouse), planning.intact_in(options.wheelhouse),
            cached=None if lease is None else lambda job: lease.lookup(job, site))
        if plan.reuse:
            reporter.info(f"{len(plan.reuse)} wheel(s) already built for these pins are reused")
        if plan.cached:
            reporter.info(f"{len(plan.cached)} wheel(s) built earlier from the same sdist with "
                          f"the same settings are taken from the wheel cache "
                          f"({wheelcache.root()}): " + ", ".join(
                              f"{job.pin.name}=={job.pin.version}" for job, _ in plan.cached))
        made = building.execute(self.engine, self.project, self.target, plan, reporter,
                                jobs=self.jobs, platform_glibc=self.platform_glibc,
                                wheel_cache=wheelcache.root(), relock=self.relock,
                                platform_libraries=self.platform_libraries)
        return Built(made, frozenset(record.file for record in plan.reuse))

    def relock(self, found_imports: Mapping[str, tuple[str, ...]]) -> Project:
        """Record what builds found sdists to import undeclared in the build lock; the project
        as it then stands."""
        with self.reporter.step("recording what builds import in the build lock"):
            lock_plan = locking.plan_locks(self.project, found=found_imports)
            self.project = locking.execute(self.engine, self.project, self.target, lock_plan,
                                           self.reporter).project
        return self.project


def relock_with(current: Project, plan: planning.BuildPlan | None, gap: LockGapError, *,
                reporter: Reporter, engine: Engine, target: targets.Target) -> Project:
    """Lock again with what wheels built from sdists require beyond their sdists' metadata
    (uv reads an sdist's static metadata, which may say less than its setup.py): added to the
    input of each lock that pins such a package, for this resolution. The project as the new
    locks stand."""
    options = current.options
    reporter.warn(f"{gap.message[:1].upper()}{gap.message[1:]} Locking again with it.")
    by_lock: dict[Path, list[str]] = {}
    pin_locks = dict(plan.pin_locks) if plan is not None else {}
    for name, needs in sorted(gap.gaps.items()):
        for lock in pin_locks.get(canonicalize_name(name), ()):
            by_lock.setdefault(options.project_dir / lock, []).extend(needs)
    lock_plan = locking.plan_locks(current, added=by_lock)
    for path, reason in lock_plan.reasons:
        reporter.info(f"{project.relative(options, path)} will be re-resolved: {reason}")
    with reporter.step(f"locking again for python {target.version} in {options.target.image}"):
        return locking.execute(engine, current, target, lock_plan, reporter).project
