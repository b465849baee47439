"""The commands as the core offers them: options in, work done, errors raised.

Each command that changes the project holds its run lock, connects to the engine only when it
needs it, and lets KeyboardInterrupt (Ctrl-C, and SIGTERM turned into it at the edge) unwind
through the cleanup of every container and staging folder. `connected` is the one place the
real engine is made; each flow takes another way to connect (`connect`), so that tests can hand
it a fake.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from wheelferry.building import wheelcache
from wheelferry.commands import platform_facts as facts
from wheelferry.commands.build_round import BuildRound, Built, relock_with
from wheelferry.core.errors import LockGapError
from wheelferry.core.report import Reporter
from wheelferry.core.runlock import project_run_lock
from wheelferry.engine.client import DockerEngine
from wheelferry.engine.protocol import Engine
from wheelferry.locking import lock as locking
from wheelferry.locking.project import Project, read_project
from wheelferry.project import layout as project
from wheelferry.project import wheelhouse as wh
from wheelferry.project.options import Options
from wheelferry.proving import state
from wheelferry.proving import verify as verifying
from wheelferry.proving.proof import Problem
from wheelferry.target import elfcheck
from wheelferry.target import image as targets
from wheelferry.target import provided as provided_mod

# How a flow reaches an engine: a block that yields it connected and closes it at its end.
Connect = Callable[[Options], AbstractContextManager[Engine]]


@contextmanager
def connected(options: Options) -> Iterator[Engine]:
    """The real engine the options name, connected for the block (its containers labelled with
    the project)."""
    engine = DockerEngine.connect(options.engine, project=options.project_dir)
    try:
        yield engine
    finally:
        engine.close()


def lock(options: Options, *, reporter: Reporter, upgrade: bool = False,
         upgrade_packages: Sequence[str] = (), connect: Connect = connected) -> Project:
    with project_run_lock(project.state_dir(options), command="lock"):
        if not options.platform.provided_from_image:
            return _lock(options, reporter=reporter, upgrade=upgrade,
                         upgrade_packages=upgrade_packages, connect=connect,
                         provided=facts.provided(options, None))
        with connect(options) as engine:
            found = facts.probed(engine, options, reporter)
            return _lock(options, reporter=reporter, upgrade=upgrade,
                         upgrade_packages=upgrade_packages, connect=connect, engine=engine,
                         provided=facts.provided(options, found))


def _lock(options: Options, *, reporter: Reporter, connect: Connect, upgrade: bool = False,
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
    with _engine_and_target(options, reporter, connect, engine, target) as (eng, tgt), \
            reporter.step(f"locking for python {tgt.version} in {options.target.image}"):
        locked = locking.execute(eng, current, tgt, plan, reporter)
    for path in locked.written:
        what = " (build requirements)" if path == project.build_lock_path(options) else ""
        verb = "wrote" if path.is_file() else "removed"
        reporter.info(f"{verb} {project.relative(options, path)}{what}")
    return locked.project


@contextmanager
def _engine_and_target(options: Options, reporter: Reporter, connect: Connect,
                       engine: Engine | None, target: targets.Target | None
                       ) -> Iterator[tuple[Engine, targets.Target]]:
    if engine is not None and target is not None:
        yield engine, target
        return
    with contextlib.ExitStack() as stack:
        eng = engine if engine is not None else stack.enter_context(connect(options))
        with reporter.step(f"checking the target image {options.target.image}"):
            tgt = targets.prepare(eng, options, reporter.info)
        yield eng, tgt


def build(options: Options, *, reporter: Reporter, upgrade: bool = False,
          upgrade_packages: Sequence[str] = (), jobs: int = 0,
          connect: Connect = connected) -> Built:
    """Lock when stale, then fetch/build what changed and swap in the new wheelhouse."""
    with project_run_lock(project.state_dir(options), command="build"):
        wh.recover(options.wheelhouse)
        wh.check_writable(options.wheelhouse)
        with connect(options) as engine, contextlib.ExitStack() as stack:
            with reporter.step(f"checking the target image {options.target.image}"):
                target = targets.prepare(engine, options, reporter.info)
            found = facts.probed(engine, options, reporter)
            provided = facts.provided(options, found)
            with wh.locks_kept_with_wheelhouse(options):
                current = _lock(options, reporter=reporter, connect=connect, upgrade=upgrade,
                                upgrade_packages=upgrade_packages, engine=engine,
                                target=target, provided=provided)
                cache = wheelcache.root()
                # The wheel cache's entries this build takes are kept from pruning till its end.
                lease = None if cache is None else stack.enter_context(wheelcache.Lease(cache))
                build_once = BuildRound(current, engine, target, reporter,
                                        lease=lease, jobs=jobs,
                                        platform_glibc=facts.glibc(found, provided),
                                        platform_libraries=facts.libraries(found, provided))
                try:
                    return build_once()
                except LockGapError as gap:
                    # uv read an sdist's static metadata, which said less than its wheel does.
                    # Planned again from the new locks.
                    build_once.project = relock_with(build_once.project, build_once.plan, gap,
                                                     reporter=reporter, engine=engine,
                                                     target=target)
                return build_once()


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


def verify(options: Options, *, reporter: Reporter, static_only: bool = False,
           connect: Connect = connected) -> Verified:
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
        with connect(options) as engine:
            found = facts.probed(engine, options, reporter)
            glibc = facts.glibc(found, provided_mod.from_file(options))
            if glibc:
                refused = elfcheck.glibc_too_new(options.wheelhouse,
                                                 [w.file for w in manifest.wheels], glibc)
                verifying.raise_if([verifying.Problem("glibc", line) for line in refused],
                                   f"for the platform's glibc {glibc}")
            if found is not None:
                site = verifying.ProofSite(image=found.image, user=found.user, home=found.home,
                                           scratch_home=False)
            else:
                site = verifying.plain_site(facts.plain_platform(engine, options, manifest,
                                                                 reporter))
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
