"""One command's view of a project, read once: its options, what the platform provides, the
build lock's pins and what it records that locking or building found, and the build overrides
(configured and found) with the one `override_for`.

A command that writes new locks makes a new Project from them (`lock.execute` returns it): a
Project never re-reads the disk, so one kept past a relock would describe the old build lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from wheelferry.core.errors import LockError
from wheelferry.project import layout
from wheelferry.project.layout import LockEntry
from wheelferry.project.options import Options
from wheelferry.project.overrides import BuildOverride
from wheelferry.project.requirements import Pin
from wheelferry.target.provided import Provided


@dataclass(frozen=True)
class Project:
    """The project as its locks stand when it was read (see `read_project`)."""

    options: Options
    # What the platform provides (None: nothing, or not known to this command).
    provided: Provided | None
    # Sdists whose setup.py imports what it does not declare, as the build lock records them.
    discovered: tuple[tuple[NormalizedName, tuple[str, ...]], ...]
    # The configured overrides, plus one for each discovered sdist (configured ones win).
    overrides: tuple[BuildOverride, ...]
    # The build lock's pins as read, or why they could not be (raised where they are used, so
    # that a command that never builds is not stopped by a damaged build lock).
    build_lock_read: tuple[Pin, ...] | LockError = ()

    @property
    def build_pins(self) -> tuple[Pin, ...]:
        """The build lock's pins (none when there is no build lock)."""
        if isinstance(self.build_lock_read, LockError):
            raise self.build_lock_read
        return self.build_lock_read

    @property
    def entries(self) -> tuple[LockEntry, ...]:
        return layout.lock_entries(self.options)

    @property
    def build_lock(self) -> Path:
        return layout.build_lock_path(self.options)

    def found(self) -> dict[NormalizedName, tuple[str, ...]]:
        """What the build lock records that locking or building found."""
        return dict(self.discovered)

    def found_unconfigured(self) -> dict[NormalizedName, tuple[str, ...]]:
        """What was found for packages without a configured override: recorded as found."""
        return {name: needs for name, needs in self.discovered
                if self.options.build.configured(name) is None}

    def override_for(self, name: str) -> BuildOverride | None:
        """The override a package is built with: configured, or found by locking."""
        wanted = canonicalize_name(name)
        return next((o for o in self.overrides if o.name == wanted), None)

    @property
    def uses_build_lock(self) -> bool:
        return any(o.states_build_environment for o in self.overrides)

    def lock_pins(self) -> tuple[tuple[Path, tuple[Pin, ...]], ...]:
        """The pins of each input's lock; LockError when a lock is missing."""
        return layout.lock_pins(self.options)


def read_project(options: Options, provided: Provided | None = None) -> Project:
    """The project as its files are now: the build lock read once."""
    discovered = layout.read_discovered(layout.build_lock_path(options))
    try:
        build_lock_read: tuple[Pin, ...] | LockError = layout.build_lock_pins(options)
    except LockError as error:
        build_lock_read = error
    return Project(options=options, provided=provided,
                   discovered=tuple(sorted(discovered.items())),
                   overrides=_overrides(options, discovered), build_lock_read=build_lock_read)


def _overrides(options: Options,
               discovered: dict[NormalizedName, tuple[str, ...]]) -> tuple[BuildOverride, ...]:
    configured = {o.name: o for o in options.build.overrides}
    for package, needs in discovered.items():
        own = configured.get(package)
        if own is None or not own.states_build_environment:
            # What was found, with the OS packages an override may name for it.
            configured[package] = BuildOverride(
                name=package, build_requires=tuple(Requirement(n) for n in needs),
                no_build_isolation=True,
                system_packages=own.system_packages if own is not None else ())
    return tuple(configured[name] for name in sorted(configured))
