"""What a wheelhouse holds besides its wheels: the manifest (what each wheel is and came from,
the target, the locks), the install requirements, and SHA256SUMS over everything."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from wheelferry import __version__
from wheelferry.core.files import sha256_file
from wheelferry.everywhere.checksums import sums_entries

MANIFEST = "wheelferry-manifest.json"
SUMS = "SHA256SUMS"
# What the platform installs: every wheel pinned by name, version and the hash of the wheel itself.
REQUIREMENTS = "wheelferry-requirements.txt"
METADATA_FILES = (MANIFEST, REQUIREMENTS)
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class SdistRecord:
    file: str
    sha256: str


# How a shipped wheel came: a wheel from the index, or built here from its sdist.
Origin = Literal["downloaded", "built"]
ORIGINS: tuple[Origin, ...] = get_args(Origin)


@dataclass(frozen=True)
class WheelRecord:
    name: str
    version: str
    file: str
    sha256: str
    size: int
    origin: Origin  # "built": from the sdist below
    sdist: SdistRecord | None = None
    build_requires: tuple[str, ...] = ()
    build_key: str = ""
    locks: tuple[str, ...] = ()
    # Build requirements wheelferry found the sdist needs without declaring them (its setup.py
    # imports them), installed from the build lock.
    discovered_build_requires: tuple[str, ...] = ()
    # When the sdist only built with its build requirements capped at their newest releases
    # before the sdist's own upload: the versions used ("name==version").
    dated_build_requires: tuple[str, ...] = ()
    # When the wheel was not compiled for this wheelhouse but taken from the wheel cache (built
    # earlier, by this or another project, from the same sdist with the same settings): the key
    # of its entry there.
    from_wheel_cache: str = ""
    # The OS packages its build container had (system-packages), as installed: "name=version".
    system_packages: tuple[str, ...] = ()
    # Shared libraries carried in the wheel (the platform cannot install OS packages): "soname
    # from package=version".
    carried_libraries: tuple[str, ...] = ()
    # When its build left out an optional compiled part for want of an OS part: what it lacked
    # ("the header yaml.h") and the OS package that brings it ("libyaml-dev"; "" if unknown);
    # then the compiled modules the release's published wheels have that it lacks ("yaml._yaml";
    # the first two are "" when its build log shows no cause).
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetRecord:
    python: str
    version: str
    image: str
    image_id: str
    image_digest: str
    tags: tuple[str, ...]
    arch: str = ""


@dataclass(frozen=True)
class Manifest:
    target: TargetRecord
    locks: tuple[tuple[str, str], ...]  # (lock path relative to the project, its sha256)
    wheels: tuple[WheelRecord, ...]
    generator: str = f"wheelferry {__version__}"
    format: int = MANIFEST_FORMAT
    extra: tuple[tuple[str, str], ...] = field(default=())
    # Pins the platform already has at that version: resolved against, not shipped.
    provided: tuple[tuple[str, str], ...] = ()
    provided_source: str = ""

    def to_json(self) -> str:
        data = asdict(self)
        data["locks"] = dict(self.locks)
        data["extra"] = dict(self.extra)
        data["provided"] = dict(self.provided)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data: dict[str, Any] = json.loads(text)
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"unknown manifest format {data.get('format')!r}")
        target = data["target"]
        wheels = []
        for item in data["wheels"]:
            sdist = item.get("sdist")
            wheels.append(WheelRecord(
                name=item["name"], version=item["version"], file=item["file"],
                sha256=item["sha256"], size=int(item["size"]), origin=_origin(item["origin"]),
                sdist=SdistRecord(**sdist) if sdist else None,
                build_requires=tuple(item.get("build_requires", ())),
                build_key=item.get("build_key", ""),
                locks=tuple(item.get("locks", ())),
                discovered_build_requires=tuple(item.get("discovered_build_requires", ())),
                dated_build_requires=tuple(item.get("dated_build_requires", ())),
                from_wheel_cache=item.get("from_wheel_cache", ""),
                system_packages=tuple(item.get("system_packages", ())),
                carried_libraries=tuple(item.get("carried_libraries", ())),
                left_out=tuple(item.get("left_out", ())),
            ))
        return cls(
            target=TargetRecord(**{**target, "tags": tuple(target["tags"])}),
            locks=tuple(sorted(data["locks"].items())),
            wheels=tuple(wheels),
            generator=data.get("generator", ""),
            extra=tuple(sorted(data.get("extra", {}).items())),
            provided=tuple(sorted(data.get("provided", {}).items())),
            provided_source=data.get("provided_source", ""),
        )

    def wheel(self, name: str) -> WheelRecord | None:
        return next((w for w in self.wheels if w.name == name), None)

    @property
    def size(self) -> int:
        """The wheels' bytes in all."""
        return sum(w.size for w in self.wheels)


def _origin(value: object) -> Origin:
    for origin in ORIGINS:
        if value == origin:
            return origin
    raise ValueError(f"unknown origin {value!r}")


def read_manifest(wheelhouse: Path) -> Manifest | None:
    """The wheelhouse's manifest, or None when there is none or it cannot be read."""
    try:
        return Manifest.from_json((wheelhouse / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def requirements_text(records: Iterable[WheelRecord]) -> str:
    lines = [f"{r.name}=={r.version} --hash=sha256:{r.sha256}" for r in records]
    return "".join(f"{line}\n" for line in sorted(lines))


def sums_text(entries: Iterable[tuple[str, str]]) -> str:
    """SHA256SUMS in coreutils' format (`sha256sum -c SHA256SUMS` checks it): (file, sha256)."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(entries))


def parse_sums(text: str) -> dict[str, str]:
    """file -> sha256 from a coreutils checksum file (text or binary mode lines)."""
    return {name: digest for digest, name, _ in sums_entries(text)}


def write_metadata(folder: Path, manifest: Manifest) -> None:
    """The manifest, the install requirements and SHA256SUMS over all of them and every wheel."""
    # Bytes, not text mode: the platform reads these with "\n" line ends whatever the host.
    (folder / MANIFEST).write_bytes(manifest.to_json().encode())
    (folder / REQUIREMENTS).write_bytes(requirements_text(manifest.wheels).encode())
    entries = [(w.file, w.sha256) for w in manifest.wheels]
    entries += [(name, sha256_file(folder / name)) for name in METADATA_FILES]
    (folder / SUMS).write_bytes(sums_text(entries).encode())
