"""What probe.py reports of an image's Python (incontainer/messages.py: ProbeReport, and
PlatformProbeReport for the platform's own image), parsed once into frozen dataclasses, every
value checked: it comes from a container (or from the record of an earlier probe)."""

from __future__ import annotations

from dataclasses import dataclass

from wheelferry.core import reportvalues as values
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


def interpreter(data: object) -> Interpreter:
    """The JSON after `WHEELFERRY-PROBE `; ImageError when a value is missing or not of the
    kind probe.py writes."""
    report = values.mapping(data, "the report", _malformed)
    return Interpreter(version=values.text(report, "version", _malformed),
                       implementation=values.text(report, "implementation", _malformed),
                       machine=values.text(report, "machine", _malformed),
                       tags=values.texts(report.get("tags"), "tags", _malformed))


def platform(data: object) -> PlatformFacts:
    """The JSON after `WHEELFERRY-PROBE ` of `probe.py --platform`; ImageError as above."""
    report = values.mapping(data, "the report", _malformed)
    listing = report.get("distributions", [])
    if not isinstance(listing, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            for pair in listing):
        raise _malformed("distributions")
    libraries = report.get("libraries")
    return PlatformFacts(
        interpreter=interpreter(report), home=values.text(report, "home", _malformed),
        user_site_enabled=values.flag(report, "user_site_enabled", _malformed),
        externally_managed=values.flag(report, "externally_managed", _malformed),
        libc=values.text(report, "libc", _malformed, ""),
        libc_version=values.text(report, "libc_version", _malformed, ""),
        distributions=tuple((str(name), str(version)) for name, version in listing),
        libraries=None if libraries is None else values.texts(libraries, "libraries", _malformed))
