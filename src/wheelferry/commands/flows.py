"""The commands as the core offers them: options in, work done, errors raised.

Each command that changes the project holds its run lock, connects to the engine only when it
needs it, and lets KeyboardInterrupt (Ctrl-C, and SIGTERM turned into it at the edge) unwind
through the cleanup of every container and staging folder.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from wheelferry.building import build as building
from wheelferry.building import plan as planning
from wheelferry.building import standin, wheelcache
from wheelferry.core.errors import LockGapError
from wheelferry.core.report import Reporter
from wheelferry.core.runlock import project_run_lock
from wheelferry.engine.client import Engine, ImageInfo
from wheelferry.locking import lock as locking
from wheelferry.locking.project import Project, read_project
from wheelferry.project import layout as project
from wheelferry.project import manifest as mf
from wheelferry.project import wheelhouse as wh
from wheelferry.project.options import Options
from wheelferry.project.requirements import merge
from wheelferry.proving import state
from wheelferry.proving import verify as verifying
from wheelferry.proving.proof import Problem
from wheelferry.target import elfcheck, platform_image
from wheelferry.target import image as targets
from wheelferry.target import provided as provided_mod


@contextmanager
def connected(options: Options) -> Iterator[Engine]:
    engine = Engine.connect(options.engine)
    try:
        yield engine
    finally:
        engine.close()


def lock(options: Options, *, reporter: Reporter, upgrade: bool = False,
         upgrade_packages: Sequence[str] = ()) -> Project:
    with project_run_lock(project.state_dir(options), command="lock"):
        if not options.platform.provided_from_image:
            return _lock(options, reporter=reporter, upgrade=upgrade,
                         upgrade_packages=upgrade_packages, provided=_provided(options, None))
        with connected(options) as engine:
            found = _platform(engine, options, reporter)
            return _lock(options, reporter=reporter, upgrade=upgrade,
                         upgrade_packages=upgrade_packages, engine=engine,
                         provided=_provided(options, found))


def _platform(engine: Engine, options: Options,
              reporter: Reporter) -> platform_image.Platform | None:
    """The platform image, probed (once per image id), when one is configured."""
    if options.platform.image is None:
        return None
    with reporter.step(f"reading the platform image {options.platform.image}"):
        found = platform_image.probe(engine, options)
    reporter.info(f"the platform runs python {found.version} as {found.user} "
                  f"({found.libc} {found.libc_version}); it provides "
                  f"{len(found.provided.packages)} distributions")
    return found


def _glibc(found: platform_image.Platform | None,
           provided: provided_mod.Provided | None = None) -> str | None:
    """The platform's glibc version, when the platform is known (its image, else its
    fingerprint) and uses glibc."""
    if found is None or found.libc != "glibc" or not found.libc_version:
        return provided.glibc if provided is not None and provided.glibc else None
    return found.libc_version


def _libraries(found: platform_image.Platform | None,
               provided: provided_mod.Provided | None) -> tuple[str, ...] | None:
    """The sonames of the platform's shared libraries, when the platform is known (its image,
    else its fingerprint): a wheel built from an sdist carries those it links that it lacks."""
    if found is not None and found.libraries is not None:
        return found.libraries
    return provided.libraries if provided is not None else None


def _provided(options: Options,
              found: platform_image.Platform | None) -> provided_mod.Provided | None:
    """What the platform provides: the freeze file, else what the platform image has."""
    from_file = provided_mod.from_file(options)
    if from_file is not None:
        return from_file
    if options.platform.provided_from_image and found is not None:
        return found.provided
    return None


def _lock(options: Options, *, reporter: Reporter, upgrade: bool = False,
          upgrade_packages: Sequence[str] = (), engine: Engine | None = None,
          target: targets.Target | None = None,
          provided: provided_mod.Provided | None = None) -> Project:
    """Lock what is stale; the project as its locks then stand (read once, here)."""
    current = read_project(options, provided)
    plan = locking.plan_locks(current, upgrade=upgrade, upgrade_packages=upgrade_packages)
    if plan.up_to_date:
        for entry in plan.entries:
            reporter.info(f"{project.relative(options, entry.lock)} is up to date")
        return current
    for path, reason in plan.reasons:
        reporter.info(f"{project.relative(options, path)} will be re-resolved: {reason}")
    with _engine_and_target(options, reporter, engine, target) as (eng, tgt), \
            reporter.step(f"locking for python {tgt.version} in {options.target.image}"):
        locked = locking.execute(eng, current, tgt, plan, reporter)
    for path in locked.written:
        what = " (build requirements)" if path == project.build_lock_path(options) else ""
        verb = "wrote" if path.is_file() else "removed"
        reporter.info(f"{verb} {project.relative(options, path)}{what}")
    return locked.project


@contextmanager
def _engine_and_target(options: Options, reporter: Reporter, engine: Engine | None,
                       target: targets.Target | None) -> Iterator[tuple[Engine, targets.Target]]:
    if engine is not None and target is not None:
        yield engine, target
        return
    with contextlib.ExitStack() as stack:
        eng = engine if engine is not None else stack.enter_context(connected(options))
        with reporter.step(f"checking the target image {options.target.image}"):
            tgt = targets.prepare(eng, options, reporter.info)
        yield eng, tgt


@dataclass(frozen=True)
class Built:
    """What a build made: the new wheelhouse's manifest, and the files of the wheels it kept
    as they were (reused)."""

    manifest: mf.Manifest
    reused: frozenset[str] = frozenset()


def build(options: Options, *, reporter: Reporter, upgrade: bool = False,
          upgrade_packages: Sequence[str] = (), jobs: int = 0) -> Built:
    """Lock when stale, then fetch/build what changed and swap in the new wheelhouse."""
    with project_run_lock(project.state_dir(options), command="build"):
        wh.recover(options.wheelhouse)
        wh.check_writable(options.wheelhouse)
        with connected(options) as engine, contextlib.ExitStack() as stack:
            with reporter.step(f"checking the target image {options.target.image}"):
                target = targets.prepare(engine, options, reporter.info)
            found = _platform(engine, options, reporter)
            provided = _provided(options, found)
            with wh.locks_kept_with_wheelhouse(options):
                current = _lock(options, reporter=reporter, upgrade=upgrade,
                                upgrade_packages=upgrade_packages, engine=engine, target=target,
                                provided=provided)
                cache = wheelcache.root()
                # The wheel cache's entries this build takes are kept from pruning till its end.
                lease = None if cache is None else stack.enter_context(wheelcache.Lease(cache))
                build_once = _BuildOnce(current, engine, target, reporter,
                                        lease=lease, jobs=jobs,
                                        platform_glibc=_glibc(found, provided),
                                        platform_libraries=_libraries(found, provided))
                try:
                    return build_once()
                except LockGapError as gap:
                    # uv read an sdist's static metadata, which said less than its wheel does.
                    # Planned again from the new locks.
                    build_once.project = _relock_with(build_once.project, build_once.plan, gap,
                                                      reporter=reporter, engine=engine,
                                                      target=target)
                return build_once()


@dataclass
class _BuildOnce:
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


def _relock_with(current: Project, plan: planning.BuildPlan | None, gap: LockGapError, *,
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


@dataclass(frozen=True)
class Verified:
    """What verify proved: the wheels checked, and (unless static only) where and as whom the
    proof ran, whether the platform's own packages were checked, and the warnings."""

    wheels: int
    static_only: bool
    image: str = ""
    user: str = ""
    platform_checked: bool = False
    warnings: tuple[Problem, ...] = ()


def verify(options: Options, *, reporter: Reporter, static_only: bool = False) -> Verified:
    """Static checks, then (unless static_only) the offline install proof in the target; a
    full proof is recorded in the state folder."""
    with project_run_lock(project.state_dir(options), command="verify"):
        wh.recover(options.wheelhouse)
        with reporter.step(f"checking {options.wheelhouse} against its checksums and locks"):
            problems, manifest = verifying.static_problems(options)
        verifying.raise_if(problems, f"in {options.wheelhouse}")
        assert manifest is not None
        reporter.info(f"{len(manifest.wheels)} wheels match SHA256SUMS, the manifest and the "
                      "locks")
        if static_only:
            return Verified(wheels=len(manifest.wheels), static_only=True)
        with connected(options) as engine:
            found = _platform(engine, options, reporter)
            glibc = _glibc(found, provided_mod.from_file(options))
            if glibc:
                refused = elfcheck.glibc_too_new(options.wheelhouse,
                                                 [w.file for w in manifest.wheels], glibc)
                verifying.raise_if([verifying.Problem("glibc", line) for line in refused],
                                   f"for the platform's glibc {glibc}")
            if found is not None:
                site = verifying.ProofSite(image=found.image, user=found.user, home=found.home,
                                           scratch_home=False)
            else:
                site = verifying.plain_site(_plain_platform(engine, options, manifest, reporter))
            with reporter.step(f"two desktop starts in fresh {site.image.reference} "
                               f"containers (network off, as {site.user}, only persistent-home "
                               "kept): the generated init.sh installs, then only links; pip "
                               "check and imports in both"):
                findings = verifying.prove(engine, options, manifest, site, reporter)
            if findings.pending:
                findings = verifying.check_upstream(engine, options, manifest, findings,
                                                    reporter)
        if findings.warnings:
            reporter.warn(f"{len(findings.warnings)} module(s) did not import, for reasons the "
                          "wheelhouse cannot change (they do not fail verify):\n"
                          + "\n".join(w.render() for w in findings.warnings))
        if findings.uncompiled:
            reporter.warn("files in tests, examples or docs folders of shipped packages do not "
                          "compile for the target Python (they do not fail verify):\n"
                          + "\n".join(w.render() for w in findings.uncompiled))
        verifying.raise_if(findings.problems, "in the offline install proof")
        state.record_proof(options, site.image,
                           warnings=tuple(w.render() for w in findings.warnings
                                          + findings.uncompiled))
        imports = ("every shipped module imports" if not findings.warnings else
                   f"every shipped module imports but the {len(findings.warnings)} warned about")
        reporter.info(f"proven: the wheelhouse installs offline with the generated init.sh in "
                      f"{site.image.reference}, pip check passes, {imports}, every shipped "
                      ".py compiles"
                      + (", the smoke test passes" if options.proof.smoke_test else "")
                      + (" and the platform's own packages still import" if found else ""))
    return Verified(wheels=len(manifest.wheels), static_only=False, image=site.image.reference,
                    user=site.user, platform_checked=found is not None,
                    warnings=tuple(findings.warnings))


def _plain_platform(engine: Engine, options: Options, manifest: mf.Manifest,
                    reporter: Reporter) -> ImageInfo:
    """Without the platform's image: the plain target image, or, when the platform provides
    some of the pins (a freeze file), a stand-in with those installed as the platform has them."""
    if not manifest.provided:
        return engine.ensure_image(options.target.image, platform=options.target.engine_platform)
    provided = dict(manifest.provided)
    pins = [pin for pin in merge(p for _, p in project.lock_pins(options))
            if provided.get(pin.name) == str(pin.version)]
    target = targets.prepare(engine, options, reporter.info)
    described = provided_mod.from_file(options)
    if described is not None and described.python_version \
            and described.python_version != target.version:
        reporter.warn(f"the stand-in runs python {target.version} ({options.target.image}), the "
                      f"platform {described.python_version} ({described.source}): the proof "
                      "is as good as the two agree; an image with the platform's exact Python "
                      "makes it exact")
    with reporter.step(f"preparing a stand-in of the platform: {options.target.image} with the "
                       f"{len(pins)} provided package(s) installed as root (once)"):
        return standin.ensure(engine, options, target, pins, reporter)
