"""Where a project's files live, asked and answered in one place: its inputs and the locks made
from them, the build lock, the state folder, the wheelhouse, init.sh, and the checksums of the
locks a wheelhouse is built from. Paths shown or stored are POSIX and relative to the project."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from packaging.utils import NormalizedName, canonicalize_name

from wheelferry.core.errors import LockError
from wheelferry.core.files import sha256_file
from wheelferry.project.options import Options
from wheelferry.project.requirements import Pin, read_lock

# The lock of the overrides' build requirements, beside the first input.
BUILD_LOCK_NAME = "wheelferry-build.txt"
STATE_DIR_NAME = ".wheelferry"
INIT_SCRIPT_NAME = "init.sh"
DISCOVERED_PREFIX = "# wheelferry-discovered: "


@dataclass(frozen=True)
class LockEntry:
    """One input and the lock pip-compile writes for it."""

    source: Path
    lock: Path


def posix_relative(path: PurePath, root: PurePath) -> str:
    """`path` below `root` in POSIX form, whatever the host's separator: what containers,
    locks, fingerprints and manifests hold, so that a lock made on Windows is fresh on Linux."""
    return path.relative_to(root).as_posix()


def relative(options: Options, path: Path) -> str:
    """A project file as shown to users and stored in locks and manifests."""
    return posix_relative(path, options.project_dir)


def lock_path(source: Path) -> Path:
    """The lock that pip-compile writes for an input file: X.in -> X.txt beside it."""
    return source.with_suffix(".txt")


def lock_entries(options: Options) -> tuple[LockEntry, ...]:
    return tuple(LockEntry(source, lock_path(source)) for source in options.requirements)


def build_lock_path(options: Options) -> Path:
    """Where build requirements are locked (the overrides' and those found by locking): beside
    the first input."""
    return options.requirements[0].parent / BUILD_LOCK_NAME


def read_discovered(build_lock: Path) -> dict[NormalizedName, tuple[str, ...]]:
    """Sdists whose setup.py imports what it does not declare, as locking found them: recorded
    in the build lock's header, so they travel with the committed locks."""
    try:
        lines = (build_lock.read_text(encoding="utf-8").splitlines()[:50]
                 if build_lock.is_file() else [])
    except (OSError, UnicodeDecodeError):
        return {}
    found: dict[NormalizedName, tuple[str, ...]] = {}
    for line in lines:
        if line.startswith(DISCOVERED_PREFIX):
            package, _, needs = line[len(DISCOVERED_PREFIX):].partition(" needs ")
            if package.strip() and needs.split():
                found[canonicalize_name(package.strip())] = tuple(needs.split())
    return found


def discovered_lines(found: Mapping[str, Sequence[str]]) -> str:
    """The build lock's header lines that record `found` (read back by `discovered`)."""
    return "".join(f"{DISCOVERED_PREFIX}{package} needs {' '.join(sorted(needs))}\n"
                   for package, needs in sorted(found.items()))


def lock_files(options: Options) -> list[Path]:
    """Every lock the project has or will have: one per input, then the build lock (when an
    override states a build environment, or one exists: found overrides are recorded in it)."""
    locks = [entry.lock for entry in lock_entries(options)]
    build_lock = build_lock_path(options)
    if any(o.states_build_environment for o in options.build.overrides) or build_lock.is_file():
        locks.append(build_lock)
    return locks


def lock_sums(options: Options) -> dict[str, str]:
    """The sha256 of each lock that exists, by its relative path: what a wheelhouse records it
    was built from."""
    return {relative(options, lock): sha256_file(lock)
            for lock in lock_files(options) if lock.is_file()}


def lock_pins(options: Options) -> tuple[tuple[Path, tuple[Pin, ...]], ...]:
    """The pins of each input's lock; LockError when a lock is missing."""
    found = []
    for entry in lock_entries(options):
        if not entry.lock.is_file():
            raise LockError(f"{relative(options, entry.lock)} does not exist.",
                            hint="Run 'wheelferry lock' (build does it when locks are stale).")
        found.append((entry.lock, read_lock(entry.lock)))
    return tuple(found)


def build_lock_pins(options: Options) -> tuple[Pin, ...]:
    """The pins of the build lock, when there is one."""
    path = build_lock_path(options)
    return read_lock(path) if path.is_file() else ()


def state_dir(options: Options) -> Path:
    """wheelferry's private folder inside the project (run lock, staging, what was proven)."""
    return options.project_dir / STATE_DIR_NAME


def init_script_path(options: Options) -> Path:
    return options.project_dir / INIT_SCRIPT_NAME
