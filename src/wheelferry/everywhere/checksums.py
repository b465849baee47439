"""A file's sha256, and the lines of a SHA256SUMS file (coreutils' format, text or binary mode):
the same on the host, in the build container and on the platform."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sums_entries(text: str) -> Iterator[tuple[str, str, str]]:
    """(sha256, file, the line itself) for each line of a checksum file that is not blank;
    a binary mode line's `*` is not part of the file's name."""
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, _, name = line.partition(" ")
        yield digest, name.lstrip("*").lstrip(" "), line
