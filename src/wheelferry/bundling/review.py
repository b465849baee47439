"""The review of a wheelhouse, as facts: what is imported and for which platform, each
distribution's licence, origin and advisories, the proof, the licences at a glance, and what
changed since the last bundle. Planned in pure functions over the manifest, the wheels' metadata
and the vulnerability checks; `review.json` is these facts, versioned (SCHEMA, FORMAT); the page,
the SBOM and pylock.toml are written from them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from packaging.markers import default_environment
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from wheelferry import __version__
from wheelferry.bundling.wheelmeta import UNKNOWN, WheelMeta
from wheelferry.project.manifest import Origin
from wheelferry.proving.vulnerabilities import Advisory, Checks

SCHEMA = "wheelferry-review"
FORMAT = 1


@dataclass(frozen=True)
class Build:
    """How a wheel was built here."""

    sdist: str
    sdist_sha256: str
    image: str
    image_digest: str
    build_requires: tuple[str, ...] = ()
    discovered_build_requires: tuple[str, ...] = ()
    dated_build_requires: tuple[str, ...] = ()
    system_packages: tuple[str, ...] = ()
    grafted_libraries: tuple[str, ...] = ()
    from_wheel_cache: bool = False


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    licence: str
    licence_source: str  # License-Expression, classifiers or unknown
    licence_note: str  # an unknown licence: what the free-text License field says
    summary: str
    homepage: str
    origin: Origin | Literal["provided"]  # "provided": by the platform, not shipped
    wheel: str = ""
    wheel_sha256: str = ""
    size: int = 0
    build: Build | None = None
    requires: tuple[str, ...] = ()  # the pinned distributions it needs on the target
    vulnerabilities: str = "not checked"  # "checked" or "not checked"
    advisories: tuple[Advisory, ...] = ()
    not_checked_reason: str = ""


@dataclass(frozen=True)
class Platform:
    python: str
    python_version: str
    arch: str
    image: str
    image_digest: str
    install_dir: str
    platform_image: str
    provided_source: str


@dataclass(frozen=True)
class Proof:
    proven: bool
    at: str = ""
    image: str = ""
    image_id: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class LicenceRow:
    licence: str
    known: bool
    allowed: bool | None  # None: no allowed-licenses setting
    distributions: tuple[str, ...]


@dataclass(frozen=True)
class Upgrade:
    name: str
    before: str
    after: str
    kind: str = "upgraded"  # or "downgraded"


@dataclass(frozen=True)
class LicenceChange:
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class Changes:
    since: str  # the sha256 of the SHA256SUMS of the last bundle
    since_at: str
    added: tuple[str, ...] = ()  # "name version"
    removed: tuple[str, ...] = ()
    upgraded: tuple[Upgrade, ...] = ()  # and downgraded: each says which (kind)
    licence_changes: tuple[LicenceChange, ...] = ()
    rebuilt: tuple[str, ...] = ()  # same version, another wheel (sha256)

    @property
    def none(self) -> bool:
        return not (self.added or self.removed or self.upgraded or self.licence_changes
                    or self.rebuilt)


@dataclass(frozen=True)
class Vulnerabilities:
    status: str  # "checked", "partly checked", "not checked"
    source: str
    checked_at: str
    found: int


@dataclass(frozen=True)
class Review:
    project: str
    generated_at: str
    platform: Platform
    sums_sha256: str
    distributions: tuple[Distribution, ...]
    proof: Proof
    vulnerabilities: Vulnerabilities
    licences: tuple[LicenceRow, ...]
    changes: Changes | None = None
    allowed_licenses: tuple[str, ...] = ()
    schema: str = SCHEMA
    format: int = FORMAT
    generator: str = field(default=f"wheelferry {__version__}")

    @property
    def shipped(self) -> tuple[Distribution, ...]:
        return tuple(d for d in self.distributions if d.origin != "provided")

    @property
    def provided(self) -> tuple[Distribution, ...]:
        return tuple(d for d in self.distributions if d.origin == "provided")

    @property
    def vulnerable(self) -> tuple[Distribution, ...]:
        return tuple(d for d in self.shipped if d.advisories)

    @property
    def not_allowed(self) -> tuple[Distribution, ...]:
        if not self.allowed_licenses:
            return ()
        return tuple(d for d in self.shipped if not licence_allowed(d, self.allowed_licenses))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def target_environment(python_version: str, arch: str) -> dict[str, str]:
    """The marker environment of the target: Linux, CPython `python_version` (full), `arch`."""
    environment = {key: str(value) for key, value in default_environment().items()}
    major_minor = ".".join(python_version.split(".")[:2])
    environment.update(python_version=major_minor, python_full_version=python_version,
                       implementation_version=python_version, sys_platform="linux",
                       platform_system="Linux", os_name="posix", platform_machine=arch,
                       implementation_name="cpython", platform_python_implementation="CPython")
    return environment


def requires_on_target(meta: WheelMeta, pinned: Iterable[str],
                       environment: Mapping[str, str]) -> tuple[str, ...]:
    """The pinned distributions `meta` requires on the target (markers evaluated there,
    extras left out): the edges of the dependency graph."""
    names = set(pinned)
    found = set()
    for requirement in meta.requires:
        if requirement.marker is not None and not requirement.marker.evaluate(
                {**environment, "extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in names and name != meta.name:
            found.add(name)
    return tuple(sorted(found))


def licence_allowed(dist: Distribution, allowed: Sequence[str]) -> bool:
    """Whether a distribution's licence is one of `allowed` (case-insensitive): the whole
    licence, or, for a plain `A OR B` expression, one of its choices, or for `A AND B`, every
    part. Unknown is never allowed."""
    if dist.licence_source == UNKNOWN:
        return False
    wanted = {item.strip().casefold() for item in allowed}
    text = dist.licence.strip()
    if text.casefold() in wanted:
        return True
    if "(" in text:
        return False
    if " AND " in text and " OR " not in text:
        return all(part.strip().casefold() in wanted for part in text.split(" AND "))
    if " OR " in text and " AND " not in text:
        return any(part.strip().casefold() in wanted for part in text.split(" OR "))
    return False


def licence_rows(distributions: Iterable[Distribution],
                 allowed: Sequence[str]) -> tuple[LicenceRow, ...]:
    """The shipped distributions by licence: unknown and not-allowed ones first."""
    groups: dict[str, list[Distribution]] = {}
    for dist in distributions:
        if dist.origin != "provided":
            groups.setdefault(dist.licence, []).append(dist)
    rows = [LicenceRow(licence=licence, known=dists[0].licence_source != UNKNOWN,
                       allowed=licence_allowed(dists[0], allowed) if allowed else None,
                       distributions=tuple(sorted(f"{d.name} {d.version}" for d in dists)))
            for licence, dists in groups.items()]
    return tuple(sorted(rows, key=lambda r: (r.known, r.allowed is not False, r.licence.lower())))


def wheel_versions(sums: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """name -> (version, sha256) of the wheels a SHA256SUMS lists."""
    found = {}
    for file, digest in sums.items():
        if file.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(file)
            found[str(name)] = (str(version), digest)
    return found


def changes(*, since: str, since_at: str, before: Mapping[str, str],
            before_licences: Mapping[str, str],
            now: Sequence[Distribution]) -> Changes:
    """What changed from the wheelhouse whose SHA256SUMS was `before` (its licences, when its
    review was kept) to the distributions shipped `now`."""
    old = wheel_versions(before)
    new = {d.name: d for d in now if d.origin != "provided"}
    added = tuple(f"{n} {new[n].version}" for n in sorted(set(new) - set(old)))
    removed = tuple(f"{n} {old[n][0]}" for n in sorted(set(old) - set(new)))
    upgraded, rebuilt, licences = [], [], []
    for name in sorted(set(new) & set(old)):
        version, digest = old[name]
        if version != new[name].version:
            upgraded.append(Upgrade(name, version, new[name].version,
                                    _direction(version, new[name].version)))
        elif digest != new[name].wheel_sha256:
            rebuilt.append(f"{name} {version}")
        previous = before_licences.get(name)
        if previous is not None and previous != new[name].licence:
            licences.append(LicenceChange(name, previous, new[name].licence))
    return Changes(since=since, since_at=since_at, added=added, removed=removed,
                   upgraded=tuple(upgraded), licence_changes=tuple(licences),
                   rebuilt=tuple(rebuilt))


def _direction(before: str, after: str) -> str:
    try:
        return "downgraded" if Version(after) < Version(before) else "upgraded"
    except InvalidVersion:
        return "upgraded"


def licences_of(review_json: str) -> dict[str, str]:
    """name -> licence from a review.json kept with an earlier bundle ({} when unreadable)."""
    try:
        data: Any = json.loads(review_json)
        return {str(d["name"]): str(d["licence"]) for d in data["distributions"]
                if d.get("origin") != "provided"}
    except (ValueError, KeyError, TypeError):
        return {}


def with_checks(dist: Distribution, checks: Checks | None) -> Distribution:
    """A shipped distribution with its vulnerability lookup (not checked when there was none)."""
    found = checks.of(dist.name, dist.version) if checks is not None else None
    if found is None:
        reason = "no lookup was made" if checks is None else "it was not looked up"
        return replace(dist, vulnerabilities="not checked", not_checked_reason=reason)
    return replace(dist, vulnerabilities=found.status, advisories=found.advisories,
                   not_checked_reason=found.reason)
