"""The build tools of an sdist's release date, from the index's listings (PEP 691 JSON pages
with PEP 700 upload times, read by index_client.py): each build requirement capped at its newest
release uploaded before the sdist (else the first after it with a wheel here); and why a pinned
release has nothing for this interpreter.

Shared by the build (build_wheels.py) and the lock (compile_locks.py) containers. Stdlib only,
besides `packaging` (in the toolchain's venv; pip vendors it otherwise).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

try:
    from packaging import requirements, specifiers, tags, utils, version
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import (  # type: ignore[no-redef]
        requirements,
        specifiers,
        tags,
        utils,
        version,
    )

if TYPE_CHECKING:
    from wheelferry.incontainer import declared_requires, index_client
else:
    try:  # in the container, the scripts sit side by side
        import declared_requires
        import index_client
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import declared_requires, index_client

# The day each Python was first released. Build tools older than the target Python cannot know
# it (setuptools of 2018 imports collections.MutableMapping, which Python 3.10 removed), so
# those of an sdist's day are taken no older than the target Python.
PYTHON_RELEASED = {
    "3.6": "2016-12-23", "3.7": "2018-06-27", "3.8": "2019-10-14", "3.9": "2020-10-05",
    "3.10": "2021-10-04", "3.11": "2022-10-24", "3.12": "2023-10-02", "3.13": "2024-10-07",
    "3.14": "2025-10-07",
}
LEGACY_BUILD_REQUIRES = declared_requires.LEGACY_BUILD_REQUIRES
listed_sha256 = index_client.listed_sha256


def parse_upload_time(value: object) -> datetime | None:
    """A PEP 700 `upload-time` (ISO 8601, `yyyy-mm-ddThh:mm:ss.ffffffZ`, the fraction optional)
    as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    found = re.fullmatch(r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?",
                         value.strip())
    if found is None:
        return None
    stamp, fraction, zone = found.groups()
    text = stamp + (f".{(fraction + '000000')[:6]}" if fraction else "")
    if zone and zone != "Z":
        text += zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class Release:
    """One release of a build requirement: its files' hashes (those pip may install)."""

    name: str
    version: str
    hashes: tuple[str, ...]

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def line(self) -> str:
        return " ".join([self.pin, *(f"--hash=sha256:{digest}" for digest in self.hashes)])


def file_version(filename: str, project: str) -> version.Version | None:
    try:
        if filename.endswith(".whl"):
            name, found, _, _ = utils.parse_wheel_filename(filename)
        else:
            name, found = utils.parse_sdist_filename(filename)
    except (utils.InvalidWheelFilename, utils.InvalidSdistFilename, version.InvalidVersion):
        return None
    return found if name == project else None


def _fits(file: Mapping[str, Any], supported: frozenset[tags.Tag], python_version: str) -> bool:
    """Whether pip could install the file here: a wheel with one of the interpreter's tags (an
    sdist it would build), and a requires-python this interpreter meets."""
    filename = str(file.get("filename", ""))
    if filename.endswith(".whl"):
        try:
            _, _, _, file_tags = utils.parse_wheel_filename(filename)
        except (utils.InvalidWheelFilename, version.InvalidVersion):
            return False
        if supported.isdisjoint(file_tags):
            return False
    requires_python = file.get("requires-python")
    if isinstance(requires_python, str) and requires_python.strip():
        try:
            return specifiers.SpecifierSet(requires_python).contains(python_version,
                                                                     prereleases=True)
        except specifiers.InvalidSpecifier:
            return True
    return True


def choose_release(requirement: requirements.Requirement, files: Iterable[Mapping[str, Any]], *,
                   before: datetime | None, supported: frozenset[tags.Tag],
                   python_version: str, wheels_only: bool = False,
                   earliest: bool = False) -> Release | None:
    """The newest release that satisfies `requirement` and has a file for this interpreter, from
    a PEP 691 listing of the project's files; with `before`, only releases whose files were all
    uploaded before that moment (PEP 700 upload times; a file without one does not count as
    before). `wheels_only`: only releases with a wheel for this interpreter (none to build);
    `earliest`: the oldest such release. Yanked files are left out; None when no release fits."""
    project = utils.canonicalize_name(requirement.name)
    releases: dict[version.Version, list[Mapping[str, Any]]] = {}
    for file in files:
        found = file_version(str(file.get("filename", "")), project)
        if found is not None:
            releases.setdefault(found, []).append(file)
    # Prereleases only when the specifier names one, as pip does without --pre.
    prereleases = bool(requirement.specifier.prereleases)
    fitting: list[tuple[version.Version, list[Mapping[str, Any]]]] = []
    for release, group in releases.items():
        if not requirement.specifier.contains(release, prereleases=prereleases):
            continue
        if before is not None:
            uploaded = [parse_upload_time(file.get("upload-time")) for file in group]
            if any(moment is None or moment >= before for moment in uploaded):
                continue
        live = [file for file in group if not file.get("yanked")]
        hashed = [file for file in live if listed_sha256(file)]
        usable = [file for file in hashed if _fits(file, supported, python_version)
                  and (not wheels_only or str(file.get("filename", "")).endswith(".whl"))]
        if usable:
            fitting.append((release, hashed))
    if not fitting:
        return None
    release, hashed = (min if earliest else max)(fitting, key=lambda item: item[0])
    return Release(project, str(release), tuple(sorted({listed_sha256(file) for file in hashed})))


@dataclass(frozen=True)
class DatedTools:
    """The build tools of an sdist's release date: its upload day, and each build requirement
    at its newest release uploaded before the sdist."""

    date: str
    releases: tuple[Release, ...]
    # Build requirements the lock pins, taken at the locked version rather than dated.
    locked: tuple[str, ...] = ()
    # Set when the sdist is older than the target Python: "Python 3.10, 2021-10-04", the day
    # the tools were taken of instead.
    floor: str = ""

    @property
    def when(self) -> str:
        """The day, said for a user: "2018-07-03, tools no older than Python 3.10's 2021-10-04"."""
        return self.date + (f", tools no older than {self.floor}" if self.floor else "")

    @property
    def pins(self) -> list[str]:
        return sorted([release.pin for release in self.releases] + list(self.locked))


def dated_tools(project: str, sdist_file: str, requires: Sequence[str],
                listing: Callable[[str], list[dict[str, Any]] | None], *,
                supported: frozenset[tags.Tag], python_version: str,
                undated: Sequence[str] = ()) -> DatedTools | str:
    """Plan the build tools of the sdist's release date from the index's listings (`listing`:
    a project's files, or None without a JSON page), or say why there are none that differ from
    those just used. `undated`: names taken at their newest release that fits, not of its day
    (numpy<2: the newest of the major it was written for)."""
    own = listing(project)
    if own is None:
        return "the index has no JSON simple API (PEP 691) to tell upload times"
    uploaded = next((parse_upload_time(file.get("upload-time")) for file in own
                     if file.get("filename") == sdist_file), None)
    if uploaded is None:
        return f"the index gives no upload time (PEP 700) for {sdist_file}"
    tools_day, floor = uploaded, ""
    python = ".".join(python_version.split(".")[:2])
    if python in PYTHON_RELEASED:
        released = datetime.fromisoformat(PYTHON_RELEASED[python]).replace(tzinfo=timezone.utc)
        if released > uploaded:
            tools_day, floor = released, f"Python {python}'s {PYTHON_RELEASED[python]}"
    wanted: list[requirements.Requirement] = []
    for text in requires:
        if text in LEGACY_BUILD_REQUIRES:
            # pip's floor for building a legacy setup.py, not the sdist's: of its day, unbounded.
            text = text.split(">=", 1)[0]
        try:
            requirement = requirements.Requirement(text)
        except requirements.InvalidRequirement as exc:
            return f"its build requirement {text!r} is not valid ({exc})"
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        if requirement.url:
            return f"its build requirement {text!r} is a direct reference"
        wanted.append(requirement)
    declared = len(wanted)
    names = {utils.canonicalize_name(requirement.name) for requirement in wanted}
    if "setuptools" in names and "wheel" not in names:
        # setuptools before 70.1 builds wheels with the wheel package's bdist_wheel: take the
        # wheel of its day too (today's has dropped that command).
        wanted.append(requirements.Requirement("wheel"))
    releases: list[Release] = []
    changed = False
    for number, requirement in enumerate(wanted):
        files = listing(requirement.name) or []
        pick = functools.partial(choose_release, requirement, files, supported=supported,
                                 python_version=python_version)
        # Of its day, installed from a wheel (an old numpy's sdist does not build today); else
        # the first release after its day with a wheel here; else from source, of its day or
        # the first after it.
        newest = pick(before=None)
        if utils.canonicalize_name(requirement.name) in undated:
            capped = pick(before=None, wheels_only=True) or newest
            changed = True  # it stands in for what the lock pins, which just failed
        else:
            capped = (pick(before=tools_day, wheels_only=True)
                      or pick(before=None, wheels_only=True, earliest=True)
                      or pick(before=tools_day) or pick(before=None, earliest=True))
        if capped is None:
            return (f"no release of {requirement} fits this interpreter" if newest is None
                    else f"no release of {requirement} was uploaded before {sdist_file}")
        if number < declared:  # a retry is worth it only if a declared one differs
            changed = changed or newest is None or newest.version != capped.version
        releases.append(capped)
    if not changed:
        return "its build requirements had the same newest releases before it as today"
    releases.sort(key=lambda release: release.name)
    return DatedTools(uploaded.astimezone(timezone.utc).date().isoformat(), tuple(releases),
                      floor=floor)


NO_DISTRIBUTION = re.compile(r"No matching distribution found for ([^\s(]+)")


def _python_tags(files: Iterable[Mapping[str, Any]]) -> list[str]:
    """The Python tags of a release's wheels (cp39, py3, ...), in order."""
    found: set[str] = set()
    for file in files:
        name = str(file.get("filename", ""))
        if name.endswith(".whl"):
            try:
                found.update(tag.interpreter for tag in utils.parse_wheel_filename(name)[3])
            except (utils.InvalidWheelFilename, version.InvalidVersion):
                continue
    return sorted(found, key=lambda tag: (tag[:2], int(tag[2:]) if tag[2:].isdigit() else 0))


def nothing_here(text: str, files: list[dict[str, Any]] | None, *,
                 supported: frozenset[tags.Tag], python_version: str) -> str | None:
    """Why a pinned release has nothing for this interpreter, from the index's listing: what
    its files are for, and the first release after it with one for this Python ("simpleitk
    2.0.2 has no file for this Python: its wheels are for cp35, ..., cp39 and it has no sdist;
    the first release with one is 2.1.0"); None when the text pins nothing or it says nothing
    new."""
    try:
        requirement = requirements.Requirement(text)
    except requirements.InvalidRequirement:
        return None
    pinned = [spec.version for spec in requirement.specifier if spec.operator == "=="]
    if files is None or len(pinned) != 1:
        return None
    name = utils.canonicalize_name(requirement.name)
    own = [file for file in files
           if file_version(str(file.get("filename", "")), name) == version.Version(pinned[0])]
    if not own:
        return None
    wheels = _python_tags(own)
    sdist = any(not str(file.get("filename", "")).endswith(".whl") for file in own)
    if wheels:
        what = f"its wheels are for {', '.join(wheels)}" + (
            ", and its sdist's requires-python excludes it" if sdist else
            " and it has no sdist")
    else:
        what = "it has only an sdist, whose requires-python excludes it"
    later = choose_release(requirements.Requirement(f"{name}>{pinned[0]}"), files, before=None,
                           supported=supported, python_version=python_version, earliest=True)
    return (f"{name} {pinned[0]} has no file for this Python ({python_version}): {what}"
            + (f"; the first release with one is {later.version}" if later else
               "; no later release has one either"))
