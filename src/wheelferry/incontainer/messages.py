"""What the build container reports, declared once: build_wheels.py and build_retries.py fill
one BuildReport per pin and write them to /out/result.json as {"packages": [...]}; the host
parses that once (building/outcome.py) into frozen dataclasses, checking every value, since
it comes from a container.

Stdlib only.
"""

from __future__ import annotations

from typing import Literal, TypedDict


class SdistReport(TypedDict):
    """The sdist a wheel was built from, as downloaded (its sha256 is checked on the host)."""

    file: str
    sha256: str


class LeftOutReport(TypedDict):
    """A compiled part a build left out: the OS part it lacked (kind and name, "" when the log
    shows none), the OS package that brings it, and the compiled modules the release's
    published wheels have that it lacks."""

    kind: str
    name: str
    package: str
    modules: list[str]


class _Named(TypedDict):
    name: str
    ok: bool


class BuildReport(_Named, total=False):
    """One pin: fetched as a wheel ("downloaded") or built from its sdist ("built"), or the
    step that failed; what its build installed, found and took of its release date; what its
    wheel carries, left out or says about the lock."""

    origin: Literal["downloaded", "built"]
    file: str
    sdist: SdistReport
    step: str
    seconds: float
    build_requires: list[str]
    discovered: list[str]
    missing_module: str
    unknown_distribution: str
    dated_build_requires: list[str]
    dated_build_date: str
    carried: list[str]
    left_out: LeftOutReport
    unlocked_requires: list[str]
    requires_bound: list[str]
    hidden_requires: list[str]
