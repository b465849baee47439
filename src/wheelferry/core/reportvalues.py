"""Values read from a container's JSON report, each checked to be of the kind its script writes.
The parsers of the reports (proving/proof_report.py, target/probe_report.py) share these, each
passing the error its stage raises for a malformed value (`malformed(key)`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from wheelferry.core.errors import WheelferryError

Malformed = Callable[[str], WheelferryError]


def mapping(value: object, key: str, malformed: Malformed) -> Mapping[str, object]:
    """A JSON object (string keys)."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise malformed(key)
    return value


def text(data: Mapping[str, object], key: str, malformed: Malformed,
         default: str | None = None) -> str:
    """A string; required when there is no default."""
    value = data.get(key, default)
    if not isinstance(value, str):
        raise malformed(key)
    return value


def flag(data: Mapping[str, object], key: str, malformed: Malformed,
         default: bool | None = None) -> bool:
    """A boolean; required when there is no default."""
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise malformed(key)
    return value


def texts(value: object, key: str, malformed: Malformed) -> tuple[str, ...]:
    """A JSON list of strings."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise malformed(key)
    return tuple(value)
