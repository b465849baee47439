"""The four commands as the core offers them: options in, work done, errors raised.

Each command holds the project's run lock, connects to the engine only when it needs it, and lets
KeyboardInterrupt (Ctrl-C, and SIGTERM turned into it at the edge) unwind through the cleanup of
every container and staging folder.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from wheelferry import build as building
from wheelferry import initscript
from wheelferry import lock as locking
from wheelferry import target as targets
from wheelferry import verify as verifying
from wheelferry import wheelhouse as wh
from wheelferry.config import Options
from wheelferry.engine import Engine
from wheelferry.report import Reporter
from wheelferry.runlock import project_run_lock


@contextmanager
def connected(options: Options) -> Iterator[Engine]:
    engine = Engine.connect(options.engine)
    try:
        yield engine
    finally:
        engine.close()


def lock(options: Options, *, reporter: Reporter, upgrade: bool = False,
         upgrade_packages: Sequence[str] = ()) -> locking.LockPlan:
    with project_run_lock(options.state_dir, command="lock"):
        return _lock(options, reporter=reporter, upgrade=upgrade,
                     upgrade_packages=upgrade_packages)


def _lock(options: Options, *, reporter: Reporter, upgrade: bool = False,
          upgrade_packages: Sequence[str] = (), engine: Engine | None = None,
          target: targets.Target | None = None) -> locking.LockPlan:
    plan = locking.plan_locks(options, upgrade=upgrade, upgrade_packages=upgrade_packages)
    root = options.project_dir
    if plan.up_to_date:
        for entry in plan.entries:
            reporter.info(f"{entry.lock.relative_to(root)} is up to date")
        return plan
    for path, reason in plan.reasons:
        reporter.info(f"{path.relative_to(root)} will be re-resolved: {reason}")
    with _engine_and_target(options, reporter, engine, target) as (eng, tgt), \
            reporter.step(f"locking for python {tgt.version} in {options.image}"):
        locking.execute(eng, options, tgt, plan, reporter)
    for entry in plan.stale:
        reporter.info(f"wrote {entry.lock.relative_to(root)}")
    if plan.build_stale and plan.build_lock is not None:
        reporter.info(f"wrote {plan.build_lock.relative_to(root)} (the overrides' build "
                      "requirements)")
    return plan


@contextmanager
def _engine_and_target(options: Options, reporter: Reporter, engine: Engine | None,
                       target: targets.Target | None) -> Iterator[tuple[Engine, targets.Target]]:
    if engine is not None and target is not None:
        yield engine, target
        return
    with connected(options) as eng:
        with reporter.step(f"checking the target image {options.image}"):
            tgt = targets.prepare(eng, options, reporter.info)
        yield eng, tgt


def build(options: Options, *, reporter: Reporter, upgrade: bool = False,
          upgrade_packages: Sequence[str] = (), jobs: int = 0) -> wh.Manifest:
    """Lock when stale, then fetch/build what changed and swap in the new wheelhouse."""
    with project_run_lock(options.state_dir, command="build"):
        wh.recover(options.wheelhouse)
        wh.check_writable(options.wheelhouse)
        with connected(options) as engine:
            with reporter.step(f"checking the target image {options.image}"):
                target = targets.prepare(engine, options, reporter.info)
            previous_locks = locking.read_files(locking.lock_files(options))
            try:
                _lock(options, reporter=reporter, upgrade=upgrade,
                      upgrade_packages=upgrade_packages, engine=engine, target=target)
                old = wh.read_manifest(options.wheelhouse)

                def intact(record: wh.WheelRecord) -> bool:
                    path = options.wheelhouse / record.file
                    return path.is_file() and wh.sha256_file(path) == record.sha256

                plan = building.plan_build(options, target.image.id,
                                           building.lock_pins(options), old, intact,
                                           building.build_lock_pins(options))
                if plan.reuse:
                    reporter.info(f"{len(plan.reuse)} wheel(s) already built for these pins are "
                                  "reused")
                return building.execute(engine, options, target, plan, reporter, jobs=jobs)
            except BaseException:
                # A failed build leaves the locks as they were, beside the unchanged wheelhouse
                # (unless the new wheelhouse, made from the new locks, was already swapped in).
                if not _wheelhouse_matches_locks(options):
                    locking.restore_files(previous_locks)
                raise


def _wheelhouse_matches_locks(options: Options) -> bool:
    """Whether the wheelhouse on disk was built from the locks on disk (the build lock too)."""
    manifest = wh.read_manifest(options.wheelhouse)
    if manifest is None:
        return False
    current = {str(lock.relative_to(options.project_dir)): wh.sha256_file(lock)
               for lock in locking.lock_files(options) if lock.is_file()}
    return dict(manifest.locks) == current


def verify(options: Options, *, reporter: Reporter, static_only: bool = False) -> None:
    """Static checks, then (unless static_only) the offline install proof in the target."""
    with project_run_lock(options.state_dir, command="verify"):
        wh.recover(options.wheelhouse)
        with reporter.step(f"checking {options.wheelhouse} against its checksums and locks"):
            problems, manifest = verifying.static_problems(options)
        verifying.raise_if(problems, f"in {options.wheelhouse}")
        assert manifest is not None
        reporter.info(f"{len(manifest.wheels)} wheels match SHA256SUMS, the manifest and the "
                      "locks")
        if static_only:
            return
        with connected(options) as engine, reporter.step(
                f"installing offline in a fresh {options.image} container (network off, "
                "non-root)"):
            problems = verifying.prove(engine, options, manifest, reporter)
        verifying.raise_if(problems, "in the offline install proof")
        reporter.info(f"proven: the wheelhouse installs offline in {options.image}, pip check "
                      "passes and every module imports")


def init_script(options: Options, *, reporter: Reporter, output: Path | None = None) -> Path:
    """Write (or update the wheelferry block of) the platform's init.sh."""
    path = output if output is not None else options.project_dir / "init.sh"
    if not path.is_absolute():
        path = Path.cwd() / path
    initscript.write(path, install_dir=options.install_dir)
    reporter.info(f"wrote {path}: upload it to ~/persistent-home/init.sh and the wheelhouse "
                  f"folder to {options.install_dir}")
    return path
