"""The build container's report (incontainer/messages.py), parsed once into frozen dataclasses:
every value checked for its type, since it comes from a container; nothing downstream reads a
dict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wheelferry.core.errors import BuildError
from wheelferry.incontainer.system_needs import SystemNeed
from wheelferry.project.manifest import ORIGINS, Origin, SdistRecord


@dataclass(frozen=True)
class LeftOut:
    """A compiled part a build left out: the OS part it lacked ("" when the log shows none),
    the OS package that brings it, and the compiled modules its published wheels have."""

    lacked: SystemNeed | None
    package: str
    modules: tuple[str, ...]

    def record(self) -> tuple[str, ...]:
        """As the manifest keeps it: (what was lacking, the package, *modules)."""
        return (self.lacked.describe() if self.lacked else "", self.package, *self.modules)


@dataclass(frozen=True)
class BuildOutcome:
    """One pin, as the build container reported it."""

    name: str
    ok: bool
    origin: Origin | None = None  # set on every pin that succeeded
    file: str = ""
    sdist: SdistRecord | None = None
    step: str = "building it"
    seconds: float = 0.0
    build_requires: tuple[str, ...] = ()
    discovered: tuple[str, ...] = ()
    missing_module: str | None = None
    unknown_distribution: str | None = None
    dated_build_requires: tuple[str, ...] = ()
    dated_build_date: str = ""
    carried: tuple[str, ...] = ()
    left_out: LeftOut | None = None
    unlocked_requires: tuple[str, ...] = ()
    requires_bound: tuple[str, ...] = ()
    hidden_requires: tuple[str, ...] = ()
    # Set on the host: the OS packages (name=version) of the build image it was built in.
    system_packages: tuple[str, ...] = ()

    @property
    def made(self) -> Origin:
        """How the wheel of a pin that succeeded came (parsing requires it of such a pin)."""
        if self.origin is None:
            raise ValueError(f"{self.name} made no wheel")
        return self.origin


def _malformed(name: str, key: str) -> BuildError:
    return BuildError(f"the build container's report for {name} has a malformed {key!r}; "
                      "nothing of this build was kept.",
                      hint="Run again; if it repeats, report it with the build log.")


def _text(data: Mapping[str, Any], key: str, name: str, default: str = "") -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise _malformed(name, key)
    return value


def _origin(data: Mapping[str, Any], name: str) -> Origin | None:
    """How the pin's wheel came: required of a pin that succeeded, one of ORIGINS."""
    value = data.get("origin")
    for origin in ORIGINS:
        if value == origin:
            return origin
    if value in (None, "") and not data.get("ok"):
        return None
    raise _malformed(name, "origin")


def _texts(data: Mapping[str, Any], key: str, name: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _malformed(name, key)
    return tuple(value)


def _optional(data: Mapping[str, Any], key: str, name: str) -> str | None:
    return _text(data, key, name) if key in data and data[key] is not None else None


def parse(data: object) -> BuildOutcome:
    """One entry of result.json's "packages"."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise BuildError("the build container's report names no package; nothing of this "
                         "build was kept.", hint="Run again; if it repeats, report it.")
    name = str(data["name"])
    if not isinstance(data.get("ok"), bool):
        raise _malformed(name, "ok")
    sdist = data.get("sdist")
    if sdist is not None and not (isinstance(sdist, dict)
                                  and isinstance(sdist.get("file"), str)
                                  and isinstance(sdist.get("sha256"), str)):
        raise _malformed(name, "sdist")
    left = data.get("left_out")
    left_out = None
    if left is not None:
        if not isinstance(left, dict):
            raise _malformed(name, "left_out")
        kind = _text(left, "kind", name)
        left_out = LeftOut(SystemNeed(kind, _text(left, "name", name),
                                      _text(left, "package", name)) if kind else None,
                           _text(left, "package", name), _texts(left, "modules", name))
    seconds = data.get("seconds", 0.0)
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        raise _malformed(name, "seconds")
    return BuildOutcome(
        name=name, ok=bool(data["ok"]), origin=_origin(data, name),
        file=_text(data, "file", name),
        sdist=SdistRecord(str(sdist["file"]), str(sdist["sha256"])) if sdist else None,
        step=_text(data, "step", name, "building it"), seconds=float(seconds),
        build_requires=_texts(data, "build_requires", name),
        discovered=_texts(data, "discovered", name),
        missing_module=_optional(data, "missing_module", name),
        unknown_distribution=_optional(data, "unknown_distribution", name),
        dated_build_requires=_texts(data, "dated_build_requires", name),
        dated_build_date=_text(data, "dated_build_date", name),
        carried=_texts(data, "carried", name), left_out=left_out,
        unlocked_requires=_texts(data, "unlocked_requires", name),
        requires_bound=_texts(data, "requires_bound", name),
        hidden_requires=_texts(data, "hidden_requires", name))
