"""Per-package build settings (`[tool.wheelferry.overrides.NAME]`): for sdists whose setup.py
imports what it does not declare. Parsed and validated here; `where` names the file in errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from wheelferry.core.errors import ConfigError

_OVERRIDE_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "build-requires": ((list,), "a list of requirement strings"),
    "no-build-isolation": ((bool,), "true or false"),
    "system-packages": ((list,), "a list of OS package names (as the image's package manager "
                        "names them, e.g. \"libpq-dev\")"),
}
# An OS package as apt, dnf or apk names it, optionally with an exact version (name=version).
_SYSTEM_PACKAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]*(=[A-Za-z0-9+.:~_-]+)?")


def parse_system_packages(value: list[str], key: str, where: str) -> tuple[str, ...]:
    """OS packages for a build, checked to be plain package names (no options, no shell)."""
    for name in value:
        if not _SYSTEM_PACKAGE.fullmatch(name):
            raise ConfigError(f"key '{key}' {where} lists {name!r}, which is not an OS package "
                              "name.", hint='Name packages as the image\'s package manager does, '
                              'e.g. "libpq-dev".')
    return tuple(sorted(set(value)))


@dataclass(frozen=True)
class BuildOverride:
    """Per-package build settings for sdists that do not declare what their setup.py needs."""

    name: NormalizedName
    build_requires: tuple[Requirement, ...] = ()
    no_build_isolation: bool = False
    # OS packages installed in the build container before its build (their libraries travel
    # in the wheel).
    system_packages: tuple[str, ...] = ()

    @property
    def states_build_environment(self) -> bool:
        """Whether it says what the build imports (then the build is not second-guessed)."""
        return bool(self.build_requires) or self.no_build_isolation



def parse_overrides(table: Mapping[str, Any], where: str) -> tuple[BuildOverride, ...]:
    result: dict[NormalizedName, BuildOverride] = {}
    for name, body in table.items():
        key = f"overrides.{name}"
        try:
            Requirement(name)
        except InvalidRequirement:
            raise ConfigError(f"key '{key}' {where}: {name!r} is not a package name.") from None
        if not isinstance(body, dict):
            raise ConfigError(f"key '{key}' {where} must be a table with build-requires, "
                              f"no-build-isolation and/or system-packages, not {body!r}.")
        for sub, value in body.items():
            if sub not in _OVERRIDE_KEYS:
                raise ConfigError(
                    f"key '{key}.{sub}' {where} is not an override setting.",
                    hint=f"Known: {', '.join(_OVERRIDE_KEYS)}.",
                )
            types, description = _OVERRIDE_KEYS[sub]
            if not isinstance(value, types) or (
                isinstance(value, list) and not all(isinstance(v, str) for v in value)
            ):
                raise ConfigError(f"key '{key}.{sub}' {where} must be {description}, "
                                  f"not {value!r}.")
        requires: list[Requirement] = []
        for text in body.get("build-requires", []):
            try:
                requires.append(Requirement(text))
            except InvalidRequirement as exc:
                raise ConfigError(
                    f"key '{key}.build-requires' {where} lists {text!r}, which is not a "
                    f"requirement ({exc}).") from exc
        if requires and not body.get("no-build-isolation", False):
            raise ConfigError(
                f"key '{key}.build-requires' {where} needs no-build-isolation = true: pip's "
                "isolated builds cannot see extra build requirements.",
                hint="Add no-build-isolation = true to that override.")
        canonical = canonicalize_name(name)
        if canonical in result:
            raise ConfigError(f"key '{key}' {where} repeats the override for {canonical}.")
        result[canonical] = BuildOverride(
            name=canonical,
            build_requires=tuple(requires),
            no_build_isolation=bool(body.get("no-build-isolation", False)),
            system_packages=parse_system_packages(body.get("system-packages", []),
                                                  f"{key}.system-packages", where),
        )
    return tuple(result[name] for name in sorted(result))
