"""The lock container's report (incontainer/messages.py: LockReport), parsed once into frozen
dataclasses, every value checked: it comes from a container."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wheelferry.core.errors import LockError


@dataclass(frozen=True)
class Era:
    """An input whose old pins had what it does not name locked as of their day: the day and
    why; what was capped (name, version locked), or why that day's lock failed."""

    date: str
    because: str
    capped: tuple[tuple[str, str], ...] = ()
    skipped: str = ""


@dataclass(frozen=True)
class LockOutcome:
    ok: bool
    # The input (or "build-requires") that could not be locked.
    failed: str = "the requirements"
    # sdist -> the distributions its metadata needed undeclared.
    discovered: tuple[tuple[str, tuple[str, ...]], ...] = ()
    build_lock: bool = False
    # input -> its Era.
    eras: tuple[tuple[str, Era], ...] = ()


def _malformed(key: str) -> LockError:
    return LockError(f"the lock container's report has a malformed {key!r}; the previous locks "
                     "are unchanged.",
                     hint="Run again; if it repeats, report it with the lock's output (-v).")


def _names(value: object, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(n, str) for n in v)
            for k, v in value.items()):
        raise _malformed(key)
    return tuple(sorted((k, tuple(v)) for k, v in value.items()))


def _era(value: object) -> Era:
    if not isinstance(value, dict):
        raise _malformed("as_of")
    texts = {key: value.get(key, "") for key in ("date", "because", "skipped")}
    capped = value.get("capped", {})
    if not all(isinstance(text, str) for text in texts.values()) or not texts["date"] \
            or not isinstance(capped, dict) \
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in capped.items()):
        raise _malformed("as_of")
    return Era(str(texts["date"]), str(texts["because"]), tuple(sorted(capped.items())),
               str(texts["skipped"]))


def parse(data: Mapping[str, Any]) -> LockOutcome:
    """The report as the host uses it; LockError on a value of the wrong kind."""
    ok, failed, build_lock = (data.get("ok", False), data.get("failed", "the requirements"),
                              data.get("build_lock", False))
    if not isinstance(ok, bool) or not isinstance(failed, str) \
            or not isinstance(build_lock, bool):
        raise _malformed("ok, failed or build_lock")
    eras = data.get("as_of", {})
    if not isinstance(eras, dict):
        raise _malformed("as_of")
    return LockOutcome(ok=ok, failed=failed,
                       discovered=_names(data.get("discovered", {}), "discovered"),
                       build_lock=build_lock,
                       eras=tuple(sorted((str(k), _era(v)) for k, v in eras.items())))
