"""Runs in the toolchain image (stdlib and packaging only): the era of a requirement set's old
pins, and the releases of its day for what the user did not name.

A set that pins old releases (a paper's 2021 requirements) was written against the dependencies
of its day; resolved today, its unpinned dependencies come at today's releases, and an old pin
breaks at import or first call (`np.float`, `joblib.Memory(cachedir=)`). So the lock takes each
dependency the user did not name at its newest release of the pins' era: the day of the newest
exact pin, never before the target Python's first release (nothing older has files for it). A
release of that day with a wheel for the target is preferred; else the first later one with a
wheel here; else one to build, of its day. What the user names (pinned or not) and what the
platform provides are never capped (naming a dependency takes today's release of it), nor the
installer's own packages (pip, setuptools, wheel).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    from packaging import requirements, tags, utils, version
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import (  # type: ignore[no-redef]
        requirements,
        tags,
        utils,
        version,
    )

if TYPE_CHECKING:
    from wheelferry.incontainer import messages, release_dates
else:
    try:  # in the container, the scripts sit side by side
        import messages
        import release_dates
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import messages, release_dates

# The installer's own packages are never taken of the era: the platform's pip runs beside them,
# and an old setuptools breaks a newer pip (setuptools 58 makes pip 23's import fail).
NEVER_CAPPED = frozenset({"pip", "setuptools", "wheel"})

Listing = Callable[[str], "list[dict[str, Any]] | None"]


@dataclass(frozen=True)
class Era:
    """The day a set's dependencies are taken of, and why."""

    day: datetime
    # Said for a user: "pyradiomics 3.0.1 (2020-08-25); no older than Python 3.10's 2021-10-04"
    because: str

    @property
    def date(self) -> str:
        return self.day.date().isoformat()


def requirement_lines(text: str) -> Iterable[requirements.Requirement]:
    """The requirements a requirements file states (options, includes and comments skipped)."""
    for line in text.splitlines():
        line = line.split(" #", 1)[0].split("#", 1)[0] if not line.startswith("#") else ""
        line = line.strip().rstrip("\\").strip()
        if not line or line.startswith("-"):
            continue
        try:
            yield requirements.Requirement(line)
        except requirements.InvalidRequirement:
            continue


def exact_pins(texts: Iterable[str]) -> dict[str, str]:
    """name -> version of every `name==X` (no wildcard) in these requirements files."""
    pins: dict[str, str] = {}
    for text in texts:
        for requirement in requirement_lines(text):
            exact = [spec.version for spec in requirement.specifier
                     if spec.operator in ("==", "===") and not spec.version.endswith("*")]
            if len(exact) == 1 and requirement.url is None:
                pins[utils.canonicalize_name(requirement.name)] = exact[0]
    return pins


def named(texts: Iterable[str]) -> set[str]:
    """Every distribution these requirements files name, pinned or not."""
    return {utils.canonicalize_name(requirement.name)
            for text in texts for requirement in requirement_lines(text)}


def uploaded(files: Iterable[Mapping[str, Any]], name: str, pinned: str) -> datetime | None:
    """When the release `pinned` of `name` came out: its first file's upload time."""
    try:
        wanted = version.Version(pinned)
    except version.InvalidVersion:
        return None
    project = utils.canonicalize_name(name)
    moments = []
    for file in files:
        if release_dates.file_version(str(file.get("filename", "")), project) == wanted:
            moment = release_dates.parse_upload_time(file.get("upload-time"))
            if moment is not None:
                moments.append(moment)
    return min(moments) if moments else None


def era_of(pins: Mapping[str, str], listing: Listing, *, python_version: str) -> Era | None:
    """The era of these exact pins (the day of the newest), floored at the target Python's
    release; None without pins or upload times."""
    dated: list[tuple[datetime, str]] = []
    for name, pinned in sorted(pins.items()):
        moment = uploaded(listing(name) or [], name, pinned)
        if moment is not None:
            dated.append((moment, f"{name} {pinned}"))
    if not dated:
        return None
    newest, which = max(dated)
    because = f"{which} ({newest.date().isoformat()})"
    python = ".".join(python_version.split(".")[:2])
    released = release_dates.PYTHON_RELEASED.get(python)
    if released is not None:
        floor = datetime.fromisoformat(released).replace(tzinfo=timezone.utc)
        if floor > newest:
            newest, because = floor, f"{because}; no older than Python {python}'s {released}"
    return Era(newest, because)


def capped(name: str, files: list[dict[str, Any]], era: Era, *,
           supported: frozenset[tags.Tag], python_version: str) -> str | None:
    """The version of `name` to take for this era: its newest release of the era's day with a
    wheel here, else the first later one with a wheel here, else its newest of the day to build;
    None when none fits (left to the resolver)."""
    requirement = requirements.Requirement(name)
    # The whole of the era's day counts: releases uploaded with the newest pin are of its day.
    before = era.day + timedelta(days=1)

    def pick(**how: Any) -> release_dates.Release | None:
        return release_dates.choose_release(requirement, files, supported=supported,
                                            python_version=python_version, **how)

    chosen = (pick(before=before, wheels_only=True)
              or pick(before=None, wheels_only=True, earliest=True)
              or pick(before=before))
    return chosen.version if chosen is not None else None


def caps(locked: Mapping[str, str], era: Era, listing: Listing, *, keep: set[str],
         supported: frozenset[tags.Tag], python_version: str) -> dict[str, str]:
    """name -> version for each locked distribution (name -> version) not in `keep` whose
    release of the era is older than the one locked: the constraints of the era's lock."""
    found: dict[str, str] = {}
    for name, version_locked in sorted(locked.items()):
        if name in keep or name in NEVER_CAPPED:
            continue
        files = listing(name)
        if not files:
            continue
        chosen = capped(name, files, era, supported=supported, python_version=python_version)
        if chosen is not None and version.Version(chosen) < version.Version(version_locked):
            found[name] = chosen
    return found


def constraint_lines(found: Mapping[str, str]) -> str:
    return "".join(f"{name}<={version}\n" for name, version in sorted(found.items()))


# At most this many locks of the era: each may bring distributions today's lock did not have
# (an older release depends on others), or drop caps that the resolver found in conflict.
MAX_ROUNDS = 3


def relock(lock: Path, era: Era, listing: Listing, *, keep: set[str],
           supported: frozenset[tags.Tag], python_version: str, folder: Path,
           compile_with: Callable[[list[str]], tuple[int, str]]) -> messages.EraReport | None:
    """Lock again with each distribution the user did not name capped at its release of the
    era (`compile_with` runs the resolver with extra arguments, writing `lock`). The caps are a
    constraints file in `folder`, the resolver's working folder, named for the day (a lock's
    annotations may show it). Returns what was capped, for the host to say ({"date", "because",
    "capped": {name: version}}); a "skipped" reason when the era's lock failed and today's
    stands; None when nothing is older."""
    today = lock.read_bytes()
    locked = original = exact_pins([today.decode(errors="replace")])
    found = caps(locked, era, listing, keep=keep, supported=supported,
                 python_version=python_version)
    if not found:
        return None
    print(f"==> resolving as of {era.date} ({era.because}): what the requirements do not name "
          f"is taken at its release of that day: "
          + ", ".join(f"{name}<={version}" for name, version in sorted(found.items())),
          flush=True)
    reason = ""
    constraints = folder / f"wheelferry-as-of-{era.date}.txt"
    for _ in range(MAX_ROUNDS):
        constraints.write_text(constraint_lines(found))
        code, output = compile_with(["--constraint", constraints.name])
        if code != 0:
            conflicting = {name for name in found
                           if re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", output,
                                        re.IGNORECASE)}
            reason = "the resolver found no set of them that fits together"
            if not conflicting or conflicting == set(found):
                break
            print("==> taking today's releases of " + ", ".join(sorted(conflicting))
                  + ", which the others need", flush=True)
            found = {name: v for name, v in found.items() if name not in conflicting}
            continue
        now = exact_pins([lock.read_text(errors="replace")])
        more = caps({name: v for name, v in now.items() if name not in locked and name
                     not in found}, era, listing, keep=keep, supported=supported,
                    python_version=python_version)
        if not more:
            capped_now = {name: now[name] for name in found if name in now
                          and now[name] != original.get(name)}
            return {"date": era.date, "because": era.because, "capped": capped_now}
        locked = now
        found.update(more)
    lock.write_bytes(today)
    reason = reason or "it did not settle"
    print(f"==> today's releases are kept: resolving as of {era.date} failed ({reason})",
          flush=True)
    return {"date": era.date, "because": era.because, "skipped": reason}
