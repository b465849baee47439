"""One entry of the wheel cache (wheelcache.py): `<root>/<key>/record.json` beside its wheel.
An entry is assembled in a temporary folder beside and renamed into place, so a reader sees all
of it or none; its record is read whole or not at all; a wheel is taken only when its bytes
match the sha256 its record gives, and an entry that does not is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion

from wheelferry import __version__
from wheelferry.core.files import sha256_file
from wheelferry.project.manifest import SdistRecord

RECORD = "record.json"
RECORD_FORMAT = 1
TEMPORARY_MARK = ".tmp-"


def digest(facts: Mapping[str, Any]) -> str:
    """The key of an entry made of `facts` (from key_data)."""
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A wheel in the cache, with what its record says of how it was made."""

    key: str
    folder: Path
    file: str
    sha256: str
    size: int
    sdist: SdistRecord
    build_requires: tuple[str, ...] = ()
    dated_build_requires: tuple[str, ...] = ()
    dated_build_date: str = ""
    seconds: float = 0.0
    created: str = ""

    @property
    def wheel(self) -> Path:
        return self.folder / self.file


def read_entry(folder: Path, key: str) -> Entry | None:
    """The entry in `folder` when its record is whole and names a wheel that is there at its
    size; None for anything else (absent, partial, unreadable, another format)."""
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT \
                or data.get("key") != key:
            return None
        wheel, sdist = data["wheel"], data["sdist"]
        file = str(wheel["file"])
        if Path(file).name != file or file.startswith(".") or "\\" in file:
            return None
        parse_wheel_filename(file)
        entry = Entry(
            key=key, folder=folder, file=file, sha256=str(wheel["sha256"]),
            size=int(wheel["size"]),
            sdist=SdistRecord(file=str(sdist["file"]), sha256=str(sdist["sha256"])),
            build_requires=tuple(str(r) for r in data.get("build_requires", ())),
            dated_build_requires=tuple(str(r) for r in data.get("dated_build_requires", ())),
            dated_build_date=str(data.get("dated_build_date", "")),
            seconds=float(data.get("seconds", 0.0)),
            created=str(data.get("created", "")),
        )
        if entry.wheel.is_symlink() or entry.wheel.stat().st_size != entry.size:
            return None
    except (OSError, ValueError, KeyError, TypeError, InvalidWheelFilename, InvalidVersion):
        return None
    return entry


def _link_or_copy(source: Path, destination: Path) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copyfile(source, destination)


def discard(entry: Entry) -> None:
    """Remove an entry (one whose wheel no longer matches its record): the next build of that
    sdist writes it again."""
    with contextlib.suppress(OSError):
        (entry.folder / RECORD).unlink()  # first: what remains is never taken for an entry
    shutil.rmtree(entry.folder, ignore_errors=True)


def take(entry: Entry, destination: Path) -> bool:
    """Put the entry's wheel at `destination` (a hard link where possible), and keep it only if
    its bytes there match the record: a changed or damaged entry is removed and False
    returned, as for an entry that vanished meanwhile."""
    try:
        _link_or_copy(entry.wheel, destination)
    except FileNotFoundError:
        return False
    if sha256_file(destination) == entry.sha256:
        return True
    destination.unlink()
    discard(entry)
    return False


def store(cache: Path, *, key_facts: Mapping[str, Any], wheel: Path, sha256: str,
          sdist: SdistRecord, build_requires: tuple[str, ...] = (),
          dated_build_requires: tuple[str, ...] = (), dated_build_date: str = "",
          seconds: float = 0.0) -> bool:
    """Add a wheel just built (and checked) under the key of `key_facts` (from `key_data`):
    written in a temporary folder beside and renamed into place. False when a whole entry is
    there already (another run wrote it first). OSError when the cache cannot be written."""
    key = digest(key_facts)
    final = cache / key
    if read_entry(final, key) is not None:
        return False
    cache.mkdir(parents=True, exist_ok=True)
    scratch = cache / f"{TEMPORARY_MARK}{uuid.uuid4().hex[:12]}"
    scratch.mkdir()
    try:
        _link_or_copy(wheel, scratch / wheel.name)
        record = {
            "format": RECORD_FORMAT,
            "key": key,
            "key_data": dict(key_facts),
            "wheel": {"file": wheel.name, "sha256": sha256,
                      "size": (scratch / wheel.name).stat().st_size},
            "sdist": {"file": sdist.file, "sha256": sdist.sha256},
            "build_requires": list(build_requires),
            "dated_build_requires": list(dated_build_requires),
            "dated_build_date": dated_build_date,
            "seconds": seconds,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "generator": f"wheelferry {__version__}",
        }
        (scratch / RECORD).write_bytes(json.dumps(record, indent=2, sort_keys=True).encode())
        if final.exists():
            # Not a whole entry (read_entry said so): a damaged one, replaced.
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(scratch, final)
        except OSError:
            if read_entry(final, key) is not None:
                return False  # another run put it there first
            raise
        return True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
