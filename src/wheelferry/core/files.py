"""Files written whole: a reader (or a run that dies half-way) sees the old bytes or the new ones,
never a mix; several files replaced all or none; and their checksums."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# Shared with the containers and the platform (everywhere/); the host's modules take it from here.
from wheelferry.everywhere.checksums import sha256_file as sha256_file


def replace_file(path: Path, data: bytes, *, new_mode: int | None = None) -> None:
    """Write beside and rename over. An existing file keeps its permissions; a new one gets
    `new_mode` (else the umask's default)."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temporary.write_bytes(data)
        if path.exists():
            shutil.copymode(path, temporary)
        elif new_mode is not None:
            os.chmod(temporary, new_mode)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_files(paths: Iterable[Path]) -> dict[Path, bytes | None]:
    """The bytes of each file, None for one that does not exist: what restore_files puts back."""
    return {path: path.read_bytes() if path.is_file() else None for path in paths}


def restore_files(previous: Mapping[Path, bytes | None]) -> None:
    """Put files back as read_files found them (removing those that did not exist)."""
    for path, data in previous.items():
        if data is None:
            path.unlink(missing_ok=True)
        elif not path.is_file() or path.read_bytes() != data:
            replace_file(path, data)


def replace_all(files: Mapping[Path, bytes | None]) -> None:
    """Replace every file (None: remove it), or (on any failure or interruption) none: the ones
    already changed are put back as they were."""
    previous = read_files(files)
    done: list[Path] = []
    try:
        for path, data in files.items():
            if data is None:
                path.unlink(missing_ok=True)
            else:
                replace_file(path, data)
            done.append(path)
    except BaseException:
        restore_files({path: previous[path] for path in done})
        raise


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object written by an in-container script; {} when missing or not an object (the
    caller reports what is absent)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember_json(path: Path, data: object) -> None:
    """Write a cache's JSON record whole; a cache that cannot be written only costs time on the
    next run, so that is no error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, json.dumps(data).encode("utf-8"))
    except OSError:
        pass
