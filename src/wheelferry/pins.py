"""Read pip-compile locks into pins: name, exact version, and the hashes the lock allows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelferry.errors import BuildError

_HASH = re.compile(r"--hash[=\s]+(sha256:[0-9a-f]{64})")


@dataclass(frozen=True)
class Pin:
    name: NormalizedName
    version: Version
    hashes: frozenset[str]
    requirement: str
    lock: Path

    @property
    def line(self) -> str:
        """The pin as a hash-checking requirement line for pip."""
        hashes = " ".join(f"--hash={h}" for h in sorted(self.hashes))
        return f"{self.name}=={self.version} {hashes}"

    def allows(self, sha256: str) -> bool:
        return f"sha256:{sha256}" in self.hashes


def read_lock(path: Path) -> tuple[Pin, ...]:
    """Every pin of one lock. A line that is not `name==version` with hashes is an error: the
    lock was not made by `wheelferry lock`."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BuildError(f"{path} is not UTF-8 text ({exc.reason}).",
                         hint="Re-make the lock with 'wheelferry lock --upgrade'.") from exc
    joined = re.sub(r"\\\n", " ", text)
    pins: list[Pin] = []
    for raw in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line or line.startswith("-"):
            continue
        hashes = frozenset(_HASH.findall(line))
        requirement_text = _HASH.sub("", line).strip()
        try:
            requirement = Requirement(requirement_text)
            specs = list(requirement.specifier)
            if len(specs) != 1 or specs[0].operator != "==":
                raise InvalidVersion(requirement_text)
            version = Version(specs[0].version)
        except (InvalidRequirement, InvalidVersion):
            raise BuildError(
                f"{path} has {requirement_text!r}, which is not an exact pin (name==version).",
                hint="Re-make the lock with 'wheelferry lock --upgrade'.",
            ) from None
        if not hashes:
            raise BuildError(f"{path}: the pin {requirement_text!r} has no hashes.",
                             hint="Re-make the lock with 'wheelferry lock --upgrade'.")
        pins.append(Pin(canonicalize_name(requirement.name), version, hashes,
                        requirement_text, path))
    return tuple(pins)


def merge(pin_sets: Iterable[tuple[Pin, ...]]) -> tuple[Pin, ...]:
    """One pin per package across all locks; the same package pinned differently is an error."""
    merged: dict[NormalizedName, Pin] = {}
    for pins in pin_sets:
        for pin in pins:
            seen = merged.get(pin.name)
            if seen is None:
                merged[pin.name] = pin
            elif seen.version != pin.version:
                raise BuildError(
                    f"{pin.name} is pinned to {seen.version} in {seen.lock.name} but to "
                    f"{pin.version} in {pin.lock.name}; one wheelhouse can hold only one.",
                    hint=f"Constrain the later input with the earlier lock ('-c {seen.lock.name}' "
                    f"in {pin.lock.with_suffix('.in').name}) and build again.",
                )
            else:
                merged[pin.name] = Pin(pin.name, pin.version, seen.hashes & pin.hashes or
                                       seen.hashes, seen.requirement, seen.lock)
    return tuple(merged[name] for name in sorted(merged))
