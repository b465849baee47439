"""What the user is told after a lock was made: the old pins' dependencies locked as of their
day (incontainer/resolution_era.py), and the sdists found to import what they do not declare."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from packaging.utils import canonicalize_name

from wheelferry.locking.outcome import Era
from wheelferry.project.overrides import BuildOverride


def after_lock(eras: Iterable[tuple[str, Era]], discoveries: Mapping[str, Sequence[str]],
               overrides: Iterable[BuildOverride]) -> list[str]:
    """The notes for the lock container's report (`eras`: per input, what resolution_era did)
    and what it found, but not for an sdist whose build the user stated."""
    found = [era_note(source, era) for source, era in eras]
    stated = {o.name for o in overrides if o.states_build_environment}
    return [note for note in found if note] + [
        discovered_note(package, needs) for package, needs in sorted(discoveries.items())
        if canonicalize_name(package) not in stated]


def era_note(source: str, era: Era) -> str | None:
    """What the user is told when an input's old pins had their dependencies locked as of
    their day, or when that failed and today's stand (None: nothing older was taken)."""
    head = (f"{source} pins old releases (the newest: {era.because}), so what it does not "
            f"name is locked as of {era.date}")
    if era.skipped:
        return (f"{head} where it can: that failed ({era.skipped}), so today's releases are "
                "locked.")
    if not era.capped:
        return None
    listed = ", ".join(f"{name} {version}" for name, version in era.capped)
    return (f"{head}: {listed}. To take today's release of one of them, name it in {source} "
            "and build with --upgrade-package NAME.")


def discovered_note(package: str, needs: Sequence[str]) -> str:
    """What the user is told about an sdist found to import what it does not declare."""
    listed = ", ".join(f'"{need}"' for need in needs)
    return (f"{package}'s setup.py imports {' and '.join(needs)} without declaring it: it is "
            "built with the locked version, hash-checked, without build isolation (recorded in "
            "the build lock). To say so explicitly, add to pyproject.toml:\n"
            f"[tool.wheelferry.overrides.{package}]\nbuild-requires = [{listed}]\n"
            "no-build-isolation = true")
