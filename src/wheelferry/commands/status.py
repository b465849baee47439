"""`status`: where a project stands, read from its files alone (no engine, no container): the
target, each lock fresh or stale and why, the wheelhouse built or not, made from the current
locks or not, proven or not, its size and wheel count."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.version import Version

from wheelferry.core.errors import ConfigError, LockError
from wheelferry.core.report import format_size
from wheelferry.locking import lock as locking
from wheelferry.locking.project import read_project
from wheelferry.project import layout as project
from wheelferry.project import wheelhouse
from wheelferry.project.manifest import read_manifest
from wheelferry.project.options import Options
from wheelferry.proving import state
from wheelferry.target import platform_image
from wheelferry.target import provided as provided_mod


@dataclass(frozen=True)
class LockState:
    path: str
    fresh: bool
    reason: str = ""


@dataclass(frozen=True)
class WheelhouseState:
    path: str
    built: bool
    wheels: int = 0
    size: int = 0
    from_current_locks: bool = False
    proven: bool = False
    proven_at: str = ""
    provided: int = 0


@dataclass(frozen=True)
class ProjectStatus:
    python: str
    image: str
    arch: str
    locks: tuple[LockState, ...]
    wheelhouse: WheelhouseState
    # Why the inputs could not be planned (a bad line in a .in file), if they could not.
    input_problem: str = ""
    # The platform: its image (as last read) and what it provides, when configured.
    platform: str = ""
    provided: str = ""
    # The provided packages that moved since the wheelhouse was built against them.
    drift: str = ""

    @property
    def ready(self) -> bool:
        """Everything fresh, built from the current locks, and proven: ready to upload."""
        return (not self.input_problem and all(lock.fresh for lock in self.locks)
                and self.wheelhouse.from_current_locks and self.wheelhouse.proven)

    def rows(self) -> list[tuple[str, str]]:
        """(subject, state) lines for the user."""
        rows = [("target", f"python {self.python} in {self.image} on {self.arch}")]
        if self.platform:
            rows.append(("platform", self.platform))
        if self.provided:
            rows.append(("provided", self.provided))
        if self.drift:
            rows.append(("drift", self.drift))
        if self.input_problem:
            rows.append(("inputs", f"cannot be locked: {self.input_problem}"))
        for lock in self.locks:
            rows.append((lock.path, "fresh" if lock.fresh else f"stale: {lock.reason}"))
        house = self.wheelhouse
        if not house.built:
            rows.append((house.path, "not built: run 'wheelferry build'"))
            return rows
        built = f"{house.wheels} wheel{'' if house.wheels == 1 else 's'}, {format_size(house.size)}"
        if house.provided:
            built += f" ({house.provided} pinned package(s) provided by the platform)"
        if not house.from_current_locks:
            built += ", not made from the current locks: run 'wheelferry build'"
        rows.append((house.path, built))
        rows.append(("proof", f"proven ({house.proven_at})" if house.proven
                     else "not proven: run 'wheelferry verify'"))
        return rows


def project_status(options: Options) -> ProjectStatus:
    input_problem = ""
    locks: list[LockState] = []
    found = platform_image.cached(options)
    platform = ""
    if options.platform.image is not None:
        platform = (f"{options.platform.image}: python {found.version}, {found.libc} "
                    f"{found.libc_version}, runs as {found.user}" if found is not None else
                    f"{options.platform.image} (not read yet: 'wheelferry build' reads it)")
    try:
        given = provided_mod.from_file(options)
    except ConfigError as error:
        given, input_problem = None, error.message
    if given is None and options.platform.provided_from_image and found is not None:
        given = found.provided
    provided = f"{len(given.packages)} distributions ({given.source})" if given else ""
    try:
        plan = locking.plan_locks(read_project(options, given))
    except LockError as error:
        input_problem = input_problem or error.message
        locks = [LockState(project.relative(options, path), False, "the inputs cannot be read")
                 for path in project.lock_files(options)]
    else:
        reasons = dict(plan.reasons)
        locks = [LockState(project.relative(options, path), path not in reasons,
                           reasons.get(path, "")) for path in project.lock_files(options)]
    return ProjectStatus(python=options.target.python, image=options.target.image,
                         arch=options.target.arch,
                         locks=tuple(locks),
                         wheelhouse=_wheelhouse_state(options), input_problem=input_problem,
                         platform=platform, provided=provided, drift=_drift(options, given))


def moved(built: Iterable[tuple[str, str]], now: provided_mod.Provided) -> list[str]:
    """Which of the provided packages a wheelhouse was built against moved: 'name old -> new'
    (or '-> not provided')."""
    found = []
    for name, version in built:
        there = now.version(name)
        if there is None:
            found.append(f"{name} {version} -> not provided")
        elif there != Version(version):
            found.append(f"{name} {version} -> {there}")
    return found


def _drift(options: Options, given: provided_mod.Provided | None) -> str:
    manifest = read_manifest(options.wheelhouse)
    if manifest is None or given is None or not manifest.provided:
        return ""
    changes = moved(manifest.provided, given)
    if not changes:
        return ""
    return (f"the platform's packages moved since the wheelhouse was built against them "
            f"({manifest.provided_source or 'what the platform provided'}; now "
            f"{given.source}): {', '.join(changes)}; what it ships was proven with the old "
            "versions: run 'wheelferry build' and 'wheelferry verify' again, then upload it")


def _wheelhouse_state(options: Options) -> WheelhouseState:
    shown = str(options.wheelhouse)
    manifest = read_manifest(options.wheelhouse)
    if manifest is None:
        return WheelhouseState(shown, built=False)
    record = state.read_proof(options)
    proven = state.is_proven(options)
    return WheelhouseState(
        shown, built=True, wheels=len(manifest.wheels), size=manifest.size,
        from_current_locks=wheelhouse.matches_locks(options), proven=proven,
        proven_at=record.proven_at if proven and record is not None else "",
        provided=len(manifest.provided))
