"""What the build and lock containers report, declared once. build_wheels.py and
build_retries.py fill one BuildReport per pin and write them to /out/result.json as
{"packages": [...]}; compile_locks.py writes one LockReport. The host parses each once
(building/outcome.py, locking/outcome.py) into frozen dataclasses, checking every value, since
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


class EraReport(TypedDict, total=False):
    """An input whose old pins had what it does not name locked as of their day
    (resolution_era.py): the day and why, then what was capped (name: version locked), or why
    that day's lock failed and today's stands."""

    date: str
    because: str
    capped: dict[str, str]
    skipped: str


class LockReport(TypedDict, total=False):
    """What the lock container (compile_locks.py) writes to /out/result.json; the host parses
    it once (locking/outcome.py). `failed`: the input (or "build-requires") that could not be
    locked; `discovered`: sdist -> the distributions its metadata needed undeclared; `dated`:
    sdist -> the build tools of its day it needed; `as_of`: input -> its EraReport."""

    ok: bool
    failed: str
    discovered: dict[str, list[str]]
    build_lock: bool
    dated: dict[str, list[str]]
    as_of: dict[str, EraReport]
