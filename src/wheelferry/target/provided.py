"""What the platform already provides: the distributions installed in its Python, read from a
freeze file (`pip list --format=freeze` run on the platform) or from the platform image.

A lock resolves with them as constraints, so its pins agree with the platform; a build leaves out
every pin whose version the platform already has. `replace-provided` names the packages that
wheelferry may ship in another version on purpose.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelferry.core.errors import ConfigError
from wheelferry.project.options import Options

_FREEZE_LINE = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(?P<version>\S+)")
# Shown in a constraints file wheelferry writes for pip-compile.
CONSTRAINTS_HEADER = "# What the platform provides (wheelferry): resolved against, not shipped.\n"


@dataclass(frozen=True)
class Provided:
    """The platform's distributions, by canonical name, and where that was read."""

    source: str
    packages: tuple[tuple[NormalizedName, Version], ...] = ()
    # From a fingerprint (platform.json, `wheelferry fingerprint`): the platform's own facts.
    python_version: str = ""
    machine: str = ""
    glibc: str = ""
    tags: tuple[str, ...] = ()
    # The sonames of the platform's shared libraries (None: not known; fingerprints before
    # they were listed).
    libraries: tuple[str, ...] | None = None

    def version(self, name: str) -> Version | None:
        wanted = canonicalize_name(name)
        return next((v for n, v in self.packages if n == wanted), None)

    def digest(self) -> str:
        """Changes whenever a provided name or version changes: part of a lock's fingerprint."""
        listing = [[name, str(version)] for name, version in self.packages]
        return hashlib.sha256(json.dumps(listing).encode()).hexdigest()

    def constraints(self, replace: Iterable[str] = ()) -> str:
        """A pip constraints file pinning every provided package but those to replace."""
        skip = {canonicalize_name(name) for name in replace}
        lines = [f"{name}=={version}\n" for name, version in self.packages if name not in skip]
        return CONSTRAINTS_HEADER + "".join(lines)


NOTHING = Provided(source="nothing provided")


def from_listing(source: str, listing: Iterable[tuple[str, str]]) -> Provided:
    """A provided set from (name, version) pairs; versions that do not parse are left out
    (pip cannot constrain them either), the first of a repeated name wins (as on sys.path)."""
    packages: dict[NormalizedName, Version] = {}
    for name, text in listing:
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        packages.setdefault(canonicalize_name(name), version)
    return Provided(source=source, packages=tuple(sorted(packages.items())))


def parse_freeze(text: str, *, shown: str) -> Provided:
    """A freeze file's packages; ConfigError naming the file and line for anything else."""
    listing: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _FREEZE_LINE.fullmatch(line)
        version = match["version"] if match else ""
        try:
            Version(version)
        except InvalidVersion:
            match = None
        if match is None:
            raise ConfigError(
                f"the provided-packages file {shown} line {number}: {raw.strip()!r} is not "
                "'name==version'.",
                hint="Make the file on the platform with 'python3 -m pip list --format=freeze "
                "> platform-freeze.txt' (not 'pip freeze', which writes URLs for some "
                "packages), or fix that line.")
        listing.append((match["name"], version))
    return from_listing(f"the freeze file {shown}", listing)


def read_freeze(path: Path, *, shown: str) -> Provided:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the provided-packages file {shown} ({exc}).") from exc
    return parse_freeze(text, shown=shown)


FINGERPRINT_HINT = ("Make it on the platform with 'python3 fingerprint.py > platform.json' "
                    "(fingerprint.py is what 'wheelferry fingerprint' writes), or give a freeze "
                    "file instead.")


def parse_fingerprint(text: str, *, shown: str) -> Provided:
    """A fingerprint's packages and facts; ConfigError naming the file for anything else."""
    try:
        data = json.loads(text)
        python, libc = data["python"], data.get("libc") or {}
        listing = data["distributions"]
        version, machine = str(python["version"]), str(data["machine"])
        tags = tuple(str(tag) for tag in data["tags"])
        if not isinstance(listing, dict) or not tags:
            raise TypeError("'distributions' must be an object and 'tags' a non-empty list")
        Version(version)
    except (ValueError, KeyError, TypeError, InvalidVersion) as exc:
        raise ConfigError(f"the platform fingerprint {shown} is not one that "
                          f"'wheelferry fingerprint' makes ({type(exc).__name__}: {exc}).",
                          hint=FINGERPRINT_HINT) from exc
    found = from_listing(f"the fingerprint {shown}",
                         ((str(name), str(v)) for name, v in listing.items()))
    libraries = data.get("libraries")
    return Provided(source=found.source, packages=found.packages, python_version=version,
                    machine=machine,
                    glibc=str(libc.get("version") or "") if libc.get("name") == "glibc" else "",
                    tags=tags,
                    libraries=tuple(str(name) for name in libraries)
                    if isinstance(libraries, list) else None)


def is_fingerprint(path: Path, text: str) -> bool:
    return path.suffix.lower() == ".json" or text.lstrip().startswith("{")


def check_fingerprint(found: Provided, options: Options, *, shown: str) -> None:
    """The fingerprint describes the platform the configuration targets: its Python's
    major.minor is `python`, its machine is `arch`; ConfigError naming both otherwise."""
    release = ".".join(found.python_version.split(".")[:2])
    if release != options.target.python:
        raise ConfigError(
            f"the platform fingerprint {shown} says the platform runs python "
            f"{found.python_version}, but the configuration's python is {options.target.python}.",
            hint=f"Set python = \"{release}\" in [tool.wheelferry] (and an image with that "
            "Python), or take the fingerprint with the platform's python3.")
    if found.machine != options.target.arch:
        raise ConfigError(
            f"the platform fingerprint {shown} says the platform's machine is "
            f"{found.machine}, but the configuration's arch is {options.target.arch}.",
            hint=f"Set arch = \"{found.machine}\" in [tool.wheelferry], or take the "
            "fingerprint on the platform itself.")


def from_file(options: Options) -> Provided | None:
    """The provided set from the configured freeze file or fingerprint (no engine needed),
    else None."""
    if options.platform.provided_file is None:
        return None
    path = options.platform.provided_file
    shown = path.relative_to(options.project_dir).as_posix() \
        if options.project_dir in path.parents else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the provided-packages file {shown} ({exc}).") from exc
    if not is_fingerprint(path, text):
        return parse_freeze(text, shown=shown)
    found = parse_fingerprint(text, shown=shown)
    check_fingerprint(found, options, shown=shown)
    return found
