"""The wheelhouse folder: its manifest, its SHA256SUMS, and replacing it whole.

A new wheelhouse is assembled in a staging folder beside the old one and swapped in by renames
only when complete; a run that dies half-way is undone by `recover` at the start of the next.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from wheelferry import __version__
from wheelferry.errors import BuildError, StorageError

MANIFEST = "wheelferry-manifest.json"
SUMS = "SHA256SUMS"
# What the platform installs: every wheel pinned by name, version and the hash of the wheel itself.
REQUIREMENTS = "wheelferry-requirements.txt"
METADATA_FILES = (MANIFEST, REQUIREMENTS)
MANIFEST_FORMAT = 1
STAGING_MARK = ".wheelferry-staging-"
OLD_MARK = ".wheelferry-old-"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class SdistRecord:
    file: str
    sha256: str


@dataclass(frozen=True)
class WheelRecord:
    name: str
    version: str
    file: str
    sha256: str
    size: int
    origin: str  # "downloaded" (a wheel from the index) or "built" (from the sdist below)
    sdist: SdistRecord | None = None
    build_requires: tuple[str, ...] = ()
    build_key: str = ""
    locks: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetRecord:
    python: str
    version: str
    image: str
    image_id: str
    image_digest: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    target: TargetRecord
    locks: tuple[tuple[str, str], ...]  # (lock path relative to the project, its sha256)
    wheels: tuple[WheelRecord, ...]
    generator: str = f"wheelferry {__version__}"
    format: int = MANIFEST_FORMAT
    extra: tuple[tuple[str, str], ...] = field(default=())

    def to_json(self) -> str:
        data = asdict(self)
        data["locks"] = dict(self.locks)
        data["extra"] = dict(self.extra)
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
                sha256=item["sha256"], size=int(item["size"]), origin=item["origin"],
                sdist=SdistRecord(**sdist) if sdist else None,
                build_requires=tuple(item.get("build_requires", ())),
                build_key=item.get("build_key", ""),
                locks=tuple(item.get("locks", ())),
            ))
        return cls(
            target=TargetRecord(**{**target, "tags": tuple(target["tags"])}),
            locks=tuple(sorted(data["locks"].items())),
            wheels=tuple(wheels),
            generator=data.get("generator", ""),
            extra=tuple(sorted(data.get("extra", {}).items())),
        )

    def wheel(self, name: str) -> WheelRecord | None:
        return next((w for w in self.wheels if w.name == name), None)


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


def write_metadata(folder: Path, manifest: Manifest) -> None:
    """The manifest, the install requirements and SHA256SUMS over all of them and every wheel."""
    (folder / MANIFEST).write_text(manifest.to_json())
    (folder / REQUIREMENTS).write_text(requirements_text(manifest.wheels))
    entries = [(w.file, w.sha256) for w in manifest.wheels]
    entries += [(name, sha256_file(folder / name)) for name in METADATA_FILES]
    (folder / SUMS).write_text(sums_text(entries))


def parse_sums(text: str) -> dict[str, str]:
    """file -> sha256 from a coreutils checksum file (text or binary mode lines)."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, _, name = line.partition(" ")
        entries[name.lstrip("*").lstrip(" ")] = digest
    return entries


def staging_folder(wheelhouse: Path) -> Path:
    path = wheelhouse.parent / f".{wheelhouse.name}{STAGING_MARK}{uuid.uuid4().hex[:12]}"
    path.mkdir(parents=True)
    return path


def check_writable(wheelhouse: Path) -> None:
    """Fail early, before any work, when the wheelhouse cannot be replaced: its parent must be
    writable (staging and the swap happen there) and it must not be a mount point."""
    parent = wheelhouse.parent
    if not parent.is_dir():
        raise StorageError(f"the wheelhouse's folder {parent} does not exist.",
                           hint="Create it or choose another 'wheelhouse'.")
    for folder in (parent, wheelhouse):
        if folder.exists() and not os.access(folder, os.W_OK):
            raise StorageError(
                f"{folder} is read-only (or not writable by you).",
                hint="wheelferry replaces the wheelhouse whole: make it and its folder "
                "writable, or choose another 'wheelhouse'. Nothing was changed.",
            )
    if wheelhouse.is_dir() and os.path.ismount(wheelhouse):
        raise StorageError(
            f"{wheelhouse} is a mount point, which cannot be replaced whole.",
            hint="Point 'wheelhouse' at a folder inside it.",
        )
    if wheelhouse.is_dir() and any(wheelhouse.iterdir()) and not (wheelhouse / MANIFEST).is_file():
        raise BuildError(
            f"{wheelhouse} holds files but no {MANIFEST}: it is not a wheelhouse that wheelferry "
            "built, and a build replaces the wheelhouse folder whole.",
            hint="Point 'wheelhouse' at a new or empty folder (or move those files away).",
        )


def recover(wheelhouse: Path) -> None:
    """Undo what an interrupted run left: put a wheelhouse that was moved aside back, and remove
    staging folders. Called while holding the project's run lock."""
    parent = wheelhouse.parent
    if not parent.is_dir():
        return
    prefix = f".{wheelhouse.name}"
    for path in parent.iterdir():
        if not path.name.startswith(prefix):
            continue
        if path.name.startswith(prefix + OLD_MARK):
            if not wheelhouse.exists():
                os.rename(path, wheelhouse)
            else:
                shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(prefix + STAGING_MARK):
            shutil.rmtree(path, ignore_errors=True)


def swap_in(staging: Path, wheelhouse: Path) -> None:
    """Replace the wheelhouse by the staging folder; on any failure the old one stays."""
    old = wheelhouse.parent / f".{wheelhouse.name}{OLD_MARK}{uuid.uuid4().hex[:12]}"
    try:
        if wheelhouse.exists():
            os.rename(wheelhouse, old)
        os.rename(staging, wheelhouse)
    except BaseException:
        # Judge by the file system, not by how far the code got: an interruption can land
        # after a rename took effect but before the next statement.
        if old.exists() and not wheelhouse.exists():
            os.rename(old, wheelhouse)
        raise
    shutil.rmtree(old, ignore_errors=True)


def place(source: Path, destination: Path) -> None:
    """Put a reused wheel into the staging folder: a hard link when possible (no copy)."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


@contextlib.contextmanager
def staged(wheelhouse: Path) -> Iterator[Path]:
    """A staging folder that is removed unless it was swapped in."""
    try:
        path = staging_folder(wheelhouse)
    except OSError as exc:
        raise BuildError(f"cannot create a staging folder beside {wheelhouse} ({exc}).",
                         hint="Check that its parent folder exists and is writable.") from exc
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
