"""What probe.py reports of an image's Python (incontainer/messages.py: ProbeReport, and
PlatformProbeReport for the platform's own image), parsed once into frozen dataclasses, every
value checked: it comes from a container (or from the record of an earlier probe)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wheelferry.core.errors import ImageError


@dataclass(frozen=True)
class Interpreter:
    """An image's python3: its version, implementation, machine and supported wheel tags, most
    preferred first."""

    version: str
    implementation: str
    machine: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class PlatformFacts:
    """The platform's own image as its user sees it: the interpreter, its C library (name and
    version, "" when unknown), home, whether the user site is enabled and the Python externally
    managed (PEP 668), the distributions it has (name, version) and the sonames its loader finds
    (None: probed before the probe told them)."""

    interpreter: Interpreter
    home: str
    user_site_enabled: bool
    externally_managed: bool
    libc: str = ""
    libc_version: str = ""
    distributions: tuple[tuple[str, str], ...] = ()
    libraries: tuple[str, ...] | None = None


def _malformed(key: str) -> ImageError:
    return ImageError(f"the image probe's report has a malformed {key!r}.",
                      hint="Run again; if it repeats, report it with the output of "
                      "'wheelferry lock -v'.")


def _report(data: object) -> Mapping[str, object]:
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        raise _malformed("the report")
    return data


def _text(data: Mapping[str, object], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise _malformed(key)
    return value


def _flag(data: Mapping[str, object], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise _malformed(key)
    return value


def _texts(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _malformed(key)
    return tuple(value)


def interpreter(data: object) -> Interpreter:
    """The JSON after `WHEELFERRY-PROBE `; ImageError when a value is missing or not of the
    kind probe.py writes."""
    report = _report(data)
    return Interpreter(version=_text(report, "version"),
                       implementation=_text(report, "implementation"),
                       machine=_text(report, "machine"), tags=_texts(report.get("tags"), "tags"))


def platform(data: object) -> PlatformFacts:
    """The JSON after `WHEELFERRY-PROBE ` of `probe.py --platform`; ImageError as above."""
    report = _report(data)
    listing = report.get("distributions", [])
    if not isinstance(listing, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            for pair in listing):
        raise _malformed("distributions")
    libraries = report.get("libraries")
    return PlatformFacts(
        interpreter=interpreter(report), home=_text(report, "home"),
        user_site_enabled=_flag(report, "user_site_enabled"),
        externally_managed=_flag(report, "externally_managed"),
        libc=_text(report, "libc", ""), libc_version=_text(report, "libc_version", ""),
        distributions=tuple((str(name), str(version)) for name, version in listing),
        libraries=None if libraries is None else _texts(libraries, "libraries"))
