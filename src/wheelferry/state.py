"""What wheelferry remembers about a project between runs, in its state folder: the wheelhouse
that `verify` last proved, so that later steps (init-script, status) can tell whether the
wheelhouse on disk is that one."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from wheelferry import project
from wheelferry.config import Options
from wheelferry.engine import ImageInfo
from wheelferry.files import replace_file, sha256_file
from wheelferry.manifest import SUMS

PROOF_RECORD = "proven.json"


@dataclass(frozen=True)
class ProofRecord:
    """The wheelhouse a full verify proved: the hash of its SHA256SUMS (which covers every file),
    and where it was proven."""

    sums_sha256: str
    image: str
    image_id: str
    proven_at: str


def wheelhouse_fingerprint(wheelhouse: Path) -> str | None:
    """The sha256 of the wheelhouse's SHA256SUMS (which lists every other file's hash), or
    None when there is none."""
    sums = wheelhouse / SUMS
    return sha256_file(sums) if sums.is_file() else None


def record_path(options: Options) -> Path:
    return project.state_dir(options) / PROOF_RECORD


def record_proof(options: Options, image: ImageInfo) -> None:
    """Remember that the wheelhouse on disk was just proven in `image`."""
    fingerprint = wheelhouse_fingerprint(options.wheelhouse)
    if fingerprint is None:
        return
    write_proof(options, ProofRecord(
        sums_sha256=fingerprint, image=image.reference, image_id=image.id,
        proven_at=datetime.now(timezone.utc).isoformat(timespec="seconds")))


def write_proof(options: Options, record: ProofRecord) -> None:
    path = record_path(options)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, (json.dumps(asdict(record), indent=2, sort_keys=True) + "\n").encode())


def read_proof(options: Options) -> ProofRecord | None:
    try:
        data = json.loads(record_path(options).read_text(encoding="utf-8"))
        return ProofRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def is_proven(options: Options) -> bool:
    """Whether the wheelhouse on disk is the one the last full verify proved. (Its files'
    integrity against SHA256SUMS is verify's and init.sh's to check.)"""
    record = read_proof(options)
    current = wheelhouse_fingerprint(options.wheelhouse)
    return record is not None and current is not None and record.sums_sha256 == current
