"""What wheelferry remembers about a project between runs, in its state folder: the wheelhouse
that `verify` last proved, so that later steps (init-script, status) can tell whether the
wheelhouse on disk is that one; and a copy of the SHA256SUMS of every wheelhouse `bundle` packed
(`bundles/<its sha256>.SHA256SUMS`, `bundles/last` naming the newest), which a delta bundle is
made against."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from wheelferry.core.files import replace_file, sha256_file
from wheelferry.engine.client import ImageInfo
from wheelferry.project import layout as project
from wheelferry.project.manifest import SUMS
from wheelferry.project.options import Options

PROOF_RECORD = "proven.json"
BUNDLES = "bundles"
LAST_BUNDLE = "last"


@dataclass(frozen=True)
class ProofRecord:
    """The wheelhouse a full verify proved: the hash of its SHA256SUMS (which covers every file),
    and where it was proven."""

    sums_sha256: str
    image: str
    image_id: str
    proven_at: str
    # The modules that did not import for reasons the wheelhouse cannot change (verify's
    # warnings), each as verify said it.
    warnings: tuple[str, ...] = ()
    # The sha256 of the smoke test that ran ("" when none did): another makes the proof stale.
    smoke_test: str = ""


def wheelhouse_fingerprint(wheelhouse: Path) -> str | None:
    """The sha256 of the wheelhouse's SHA256SUMS (which lists every other file's hash), or
    None when there is none."""
    sums = wheelhouse / SUMS
    return sha256_file(sums) if sums.is_file() else None


def record_path(options: Options) -> Path:
    return project.state_dir(options) / PROOF_RECORD


def record_proof(options: Options, image: ImageInfo, *, warnings: tuple[str, ...] = ()) -> None:
    """Remember that the wheelhouse on disk was just proven in `image` (with these warnings)."""
    fingerprint = wheelhouse_fingerprint(options.wheelhouse)
    if fingerprint is None:
        return
    write_proof(options, ProofRecord(
        sums_sha256=fingerprint, image=image.reference, image_id=image.id,
        proven_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), warnings=warnings,
        smoke_test=smoke_test_digest(options)))


def smoke_test_digest(options: Options) -> str:
    """The sha256 of the configured smoke test's code, "" when there is none."""
    code = options.proof.smoke_test
    return hashlib.sha256(code.encode()).hexdigest() if code else ""


def write_proof(options: Options, record: ProofRecord) -> None:
    path = record_path(options)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, (json.dumps(asdict(record), indent=2, sort_keys=True) + "\n").encode())


def read_proof(options: Options) -> ProofRecord | None:
    try:
        data = json.loads(record_path(options).read_text(encoding="utf-8"))
        data["warnings"] = tuple(data.get("warnings", ()))
        return ProofRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def is_proven(options: Options) -> bool:
    """Whether the wheelhouse on disk is the one the last full verify proved, with the smoke
    test configured now. (Its files' integrity against SHA256SUMS is verify's and init.sh's to
    check.)"""
    record = read_proof(options)
    current = wheelhouse_fingerprint(options.wheelhouse)
    return (record is not None and current is not None and record.sums_sha256 == current
            and record.smoke_test == smoke_test_digest(options))


def bundles_dir(options: Options) -> Path:
    return project.state_dir(options) / BUNDLES


def record_bundled_sums(options: Options, sums: bytes) -> Path:
    """Keep a copy of the SHA256SUMS a bundle just packed, named by its sha256, and make it the
    `last` one; returns the copy's path."""
    digest = hashlib.sha256(sums).hexdigest()
    folder = bundles_dir(options)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.{SUMS}"
    if not path.is_file() or path.read_bytes() != sums:
        replace_file(path, sums)
    replace_file(folder / LAST_BUNDLE, f"{digest}\n".encode())
    return path


def last_bundled_sums(options: Options) -> Path | None:
    """The copy of the SHA256SUMS the last bundle packed, or None when none was made (or the
    copy is gone)."""
    folder = bundles_dir(options)
    try:
        digest = (folder / LAST_BUNDLE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    path = folder / f"{digest}.{SUMS}"
    return path if re.fullmatch("[0-9a-f]{64}", digest) and path.is_file() else None


REVIEW_SUFFIX = "review.json"


@dataclass(frozen=True)
class BundledBefore:
    """A wheelhouse bundled earlier: its SHA256SUMS (and its sha256), when it was bundled, and
    the review.json bundled with it ("" when it was bundled without --review)."""

    sha256: str
    at: str
    sums: bytes
    review: str


def record_bundled_review(options: Options, sums: bytes, review_json: bytes) -> Path:
    """Keep the review.json a bundle carried beside the copy of its SHA256SUMS."""
    digest = hashlib.sha256(sums).hexdigest()
    folder = bundles_dir(options)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.{REVIEW_SUFFIX}"
    replace_file(path, review_json)
    return path


def previous_bundle(options: Options, *, other_than: str) -> BundledBefore | None:
    """The newest bundled wheelhouse whose SHA256SUMS has a sha256 other than `other_than`
    (the wheelhouse under review), or None."""
    folder = bundles_dir(options)
    found = []
    for path in folder.glob(f"*.{SUMS}") if folder.is_dir() else ():
        digest = path.name.split(".", 1)[0]
        if re.fullmatch("[0-9a-f]{64}", digest) and digest != other_than:
            found.append((path.stat().st_mtime, digest, path))
    if not found:
        return None
    mtime, digest, path = max(found)
    review = folder / f"{digest}.{REVIEW_SUFFIX}"
    return BundledBefore(
        sha256=digest,
        at=datetime.fromtimestamp(mtime, timezone.utc).isoformat(timespec="seconds"),
        sums=path.read_bytes(),
        review=review.read_text(encoding="utf-8") if review.is_file() else "")
