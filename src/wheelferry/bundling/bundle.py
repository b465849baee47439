"""`bundle`: the wheelhouse as one self-checking installer file for the platform.

Plan (pure): which files go into the payload. A full bundle carries every file SHA256SUMS lists
and SHA256SUMS itself; a delta, made against the SHA256SUMS of the wheelhouse already on the
platform, leaves out each wheel that SHA256SUMS lists with the same hash (the platform keeps
those) and always carries the metadata files. SHA256SUMS goes first, so the platform reads it
before anything else.

Write: the installer text (bundlescript.py), then the payload, a tar archive written here member
by member and streamed from the wheelhouse (never read into memory whole), each file checked
against SHA256SUMS as it passes, the payload's sha256 computed on the way and put into the
header at the end. Not compressed: wheels are zip archives already. The file is written beside
the output and renamed over it, so a failed or interrupted run leaves no half bundle.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import queue
import sys
import tarfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wheelferry.bundling import bundlescript
from wheelferry.core.errors import BundleError
from wheelferry.core.report import format_size
from wheelferry.onplatform import unbundle
from wheelferry.onplatform.platformdir import Refused
from wheelferry.project.manifest import SUMS
from wheelferry.project.options import Options
from wheelferry.proving import state

DEFAULT_NAME = "wheelferry-bundle.sh"
BLOCK = tarfile.BLOCKSIZE  # 512
CHUNK = 1 << 20


@dataclass(frozen=True)
class BundleFile:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class BundlePlan:
    """What goes into a bundle: `files` in payload order (SHA256SUMS, the other metadata, the
    wheels); `kept` the wheels a delta leaves to the platform's wheelhouse."""

    files: tuple[BundleFile, ...]
    kept: tuple[BundleFile, ...]
    sums_sha256: str
    since_sha256: str | None
    mtime: int

    @property
    def delta(self) -> bool:
        return self.since_sha256 is not None

    @property
    def wheelhouse_files(self) -> int:
        return len(self.files) + len(self.kept)

    @property
    def carried_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def summary(self) -> str:
        """One line for people: what the bundle holds."""
        carried = f"{len(self.files)} files, {format_size(self.carried_bytes)}"
        if not self.delta:
            return f"a full wheelhouse: {carried}"
        return (f"a delta: {carried} of a wheelhouse of {self.wheelhouse_files} files; "
                f"{len(self.kept)} wheel(s) kept from the one already there")


def parse_sums(data: bytes, *, source: str) -> dict[str, str]:
    """file -> sha256 from a SHA256SUMS as wheelferry writes it; BundleError naming `source`
    for anything else (what the platform side would refuse)."""
    try:
        return unbundle.parse_sums(data.decode("utf-8"))
    except (UnicodeDecodeError, Refused) as exc:
        raise BundleError(f"{source} is not a SHA256SUMS that wheelferry wrote ({exc}).",
                          hint="Run 'wheelferry build' and 'wheelferry verify' again.") from exc


def plan_bundle(*, sums: bytes, sizes: Mapping[str, int], since: bytes | None = None,
                mtime: int = 0) -> BundlePlan:
    """The payload for the wheelhouse whose SHA256SUMS is `sums` (`sizes`: every file it lists,
    and SHA256SUMS itself, by name); a delta when `since` (the SHA256SUMS already on the
    platform) is given."""
    entries = parse_sums(sums, source=SUMS)
    before = parse_sums(since, source="the --since file") if since is not None else {}
    sums_sha256 = hashlib.sha256(sums).hexdigest()
    files = [BundleFile(SUMS, sums_sha256, sizes[SUMS])]
    metadata = sorted(name for name in entries if not name.endswith(".whl"))
    files += [BundleFile(name, entries[name], sizes[name]) for name in metadata]
    kept: list[BundleFile] = []
    for name in sorted(name for name in entries if name.endswith(".whl")):
        entry = BundleFile(name, entries[name], sizes[name])
        (kept if before.get(name) == entry.sha256 else files).append(entry)
    return BundlePlan(
        files=tuple(files), kept=tuple(kept), sums_sha256=sums_sha256,
        since_sha256=hashlib.sha256(since).hexdigest() if since is not None else None,
        mtime=mtime)


def member_header(entry: BundleFile, *, mtime: int) -> bytes:
    """The tar header of one payload file (POSIX pax format: plain ustar for short names, an
    extended header for long ones)."""
    info = tarfile.TarInfo(entry.name)
    info.size = entry.size
    info.mtime = mtime
    info.mode = 0o644
    info.type = tarfile.REGTYPE
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def padding(size: int) -> int:
    return -size % BLOCK


def payload_size(plan: BundlePlan) -> int:
    """The payload's exact length, known before a byte is written: headers, contents padded to
    512-byte blocks, and the two zero blocks that end a tar archive."""
    return sum(len(member_header(f, mtime=plan.mtime)) + f.size + padding(f.size)
               for f in plan.files) + 2 * BLOCK


def write_bundle(plan: BundlePlan, *, wheelhouse: Path, output: Path,
                 install_dir: str, carried: Mapping[str, bytes] | None = None) -> None:
    """Write the bundle to `output` (beside, then renamed over it); `carried`: files its
    header carries (review.json and the SBOM of `bundle --review`)."""
    size = payload_size(plan)
    script = bundlescript.render(install_dir=install_dir, payload_size=size,
                                 sums_sha256=plan.sums_sha256, since_sha256=plan.since_sha256,
                                 summary=plan.summary(), carried=carried)
    temporary = output.with_name(f".{output.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with temporary.open("wb", buffering=0) as out, _PayloadHash() as payload:
            _write_all(out.fileno(), script.text)
            for entry in plan.files:
                payload.add(member_header(entry, mtime=plan.mtime), out.fileno())
                _copy(wheelhouse / entry.name, entry, out.fileno(), payload)
                payload.add(bytes(padding(entry.size)), out.fileno())
            payload.add(bytes(2 * BLOCK), out.fileno())
            if out.tell() != script.payload_offset + size:
                raise BundleError(f"the payload came out at {out.tell()} bytes, not the "
                                  f"{script.payload_offset + size} planned.")
            # The payload's hash into its place in the header (os.pwrite is not on Windows).
            os.lseek(out.fileno(), script.sha_at, os.SEEK_SET)
            _write_all(out.fileno(), payload.hexdigest().encode("ascii"))
        os.chmod(temporary, 0o755)
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)


def _copy(source: Path, entry: BundleFile, out: int, payload: _PayloadHash) -> None:
    """One file into the bundle: copied by the kernel (copy_file_range, where there is one) while
    the payload's hash reads it through a read-only mapping; no byte passes through a buffer here.
    Its size is checked; its bytes against SHA256SUMS by `verify`, and on the platform before
    anything changes (hashing each file here as well would add as much work as all the rest)."""
    with source.open("rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size != entry.size:
            raise BundleError(f"{source} has {size} bytes, not the {entry.size} it had when "
                              "the bundle was planned; no bundle was written.",
                              hint="Run 'wheelferry bundle' again once nothing else writes to "
                              "the wheelhouse.")
        if size:
            payload.add_mapping(_mapped(handle.fileno()))
        # copy_file_range is Linux's; macOS and Windows read and write.
        left, fast = size, sys.platform == "linux"
        while left > 0:
            done = 0
            if fast and sys.platform == "linux":
                try:
                    done = os.copy_file_range(handle.fileno(), out, left)
                except OSError:  # not across these file systems: read and write instead
                    fast = False
                    continue
            else:
                done = _write_all(out, os.read(handle.fileno(), min(left, CHUNK)))
            if not done:
                raise BundleError(f"{source} ended before its {entry.size} bytes; no bundle "
                                  "was written.")
            left -= done


def _mapped(fd: int) -> mmap.mmap:
    """A file mapped read-only; on Linux with its pages mapped at once (one fault per page
    would cost as much as the copy)."""
    if sys.platform == "win32":
        return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    return mmap.mmap(fd, 0, flags=flags, prot=mmap.PROT_READ)


def _write_all(fd: int, data: bytes) -> int:
    view, written = memoryview(data), 0
    while written < len(data):
        written += os.write(fd, view[written:])
    return written


class _PayloadHash:
    """The payload's sha256, computed in a thread of its own while the main one has the kernel
    copy: hashlib lets other threads run, and hashing takes about as long as copying."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._work: queue.Queue[bytes | mmap.mmap | None] = queue.Queue(maxsize=8)
        self._thread = threading.Thread(target=self._run, name="payload-sha256", daemon=True)
        self._thread.start()

    def __enter__(self) -> _PayloadHash:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def add(self, data: bytes, out: int) -> None:
        """Bytes of the tar format itself (a header, padding): written and hashed."""
        _write_all(out, data)
        self._work.put(data)

    def add_mapping(self, mapping: mmap.mmap) -> None:
        """A file's bytes, mapped: hashed, then unmapped."""
        self._work.put(mapping)

    def hexdigest(self) -> str:
        self._stop()
        return self._digest.hexdigest()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._work.put(None)
            self._thread.join()

    def _run(self) -> None:
        while (item := self._work.get()) is not None:
            self._digest.update(item)
            if isinstance(item, mmap.mmap):
                item.close()


def since_sums(options: Options, since: str | None) -> bytes | None:
    """The SHA256SUMS a delta is made against: a file, or `last` (the copy the last bundle of
    this project kept); None for a full bundle."""
    if since is None:
        return None
    path = state.last_bundled_sums(options) if since == "last" else Path(since)
    if path is None:
        raise BundleError("--since last: no bundle of this project was made yet, so there is "
                          "no last one to make a delta over.",
                          hint="Make a full bundle first ('wheelferry bundle').")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read the --since file {path} ({exc.strerror or exc}).",
                          hint="Give the SHA256SUMS of the wheelhouse on the platform, or "
                          "'last'.") from exc


def make(options: Options, *, output: Path, since: bytes | None,
         carried: Mapping[str, bytes] | None = None) -> BundlePlan:
    """Plan and write the bundle of the project's wheelhouse to `output`."""
    wheelhouse = options.wheelhouse
    sums_path = wheelhouse / SUMS
    if not sums_path.is_file():
        raise BundleError(f"there is no wheelhouse at {wheelhouse} to bundle.",
                          hint="Run 'wheelferry build' and 'wheelferry verify' first.")
    if output.resolve().parent == wheelhouse.resolve() or output.is_dir():
        raise BundleError(f"the bundle cannot be written to {output}: give a file outside the "
                          "wheelhouse.")
    if not output.parent.is_dir():
        raise BundleError(f"the folder {output.parent} does not exist.",
                          hint="Create it, or give another --output.")
    sums = sums_path.read_bytes()
    sizes = {SUMS: len(sums)}
    for name in parse_sums(sums, source=str(sums_path)):
        try:
            sizes[name] = (wheelhouse / name).stat().st_size
        except OSError as exc:
            raise BundleError(f"{SUMS} lists {name}, which is missing from {wheelhouse}.",
                              hint="Run 'wheelferry build' again.") from exc
    plan = plan_bundle(sums=sums, sizes=sizes, since=since,
                       mtime=int(sums_path.stat().st_mtime))
    write_bundle(plan, wheelhouse=wheelhouse, output=output,
                 install_dir=options.platform.install_dir, carried=carried)
    return plan
