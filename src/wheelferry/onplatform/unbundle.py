"""The platform side of a bundle: the program that a bundle's POSIX sh header hands to the
platform's python3 once the payload's sha256 has checked out. It runs there, not here: Python
3.8 or later, the standard library only, nothing of wheelferry imported (bundlescript.py embeds
everywhere/checksums.py's and folderswap.py's source, then platformdir.py's, then this module's,
in every bundle, and calls `main`).

Nothing changes until every check has passed:
1. the payload's listing (a tar after the header): every member a regular file with a plain
   name, SHA256SUMS first, with the sha256 the header records, listing every other member;
2. for a delta, every wheel SHA256SUMS lists that the payload does not carry must already be in
   the wheelhouse at the install dir, with that hash (else it refuses, naming them);
3. wheelferry's block merged into ~/persistent-home/init.sh in memory (initscript.merge_block's
   rules: the one marked block replaced in place, appended when absent, broken markers refused).
Then:
4. a staging folder beside the install dir receives the payload, each file checked against
   SHA256SUMS as it is written, and the kept wheels (hard links, or checked copies);
5. it is swapped in whole: one atomic exchange where the kernel and file system offer it, else
   two renames (a run that dies between them leaves the old one aside, and the next run, or a
   delta, finds it there);
6. init.sh is written (beside, then renamed), and init.sh's own installer runs now.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from wheelferry.everywhere.checksums import sha256_file, sums_entries
from wheelferry.everywhere.folderswap import OLD_MARK, STAGING_MARK, staging_folder
from wheelferry.onplatform.platformdir import (
    SUMS,
    Refused,
    current_wheelhouse,
    leftovers,
    place_kept,
    say,
    swap,
    write_checked,
    write_file,
)

REFUSED, INTERRUPTED, INSTALL_FAILED = 1, 130, 3


@dataclass(frozen=True)
class InitScript:
    """wheelferry's part of ~/persistent-home/init.sh, exactly as `wheelferry init-script`
    writes it: the marker lines, the head of a new file, the block, and the block's installer."""

    begin: str
    end: str
    new_file_head: str
    block: str
    installer: str


@dataclass(frozen=True)
class Header:
    """What the bundle's sh header hands over, as command-line arguments."""

    bundle: Path
    install_dir: Path
    offset: int
    size: int
    sums_sha256: str

    @classmethod
    def from_argv(cls, argv: list[str]) -> Header:
        bundle, install_dir, offset, size, sums_sha256 = argv
        return cls(Path(bundle), Path(install_dir), int(offset), int(size), sums_sha256)


@dataclass(frozen=True)
class Payload:
    members: tuple[tarfile.TarInfo, ...]  # SHA256SUMS first
    sums: dict[str, str]  # every file of the new wheelhouse but SHA256SUMS -> its sha256

    @property
    def kept(self) -> list[str]:
        """What a delta does not carry: it must be in the wheelhouse already there."""
        carried = {member.name for member in self.members}
        return sorted(name for name in self.sums if name not in carried)


def plain_name(name: str) -> bool:
    """A file name that stays in its folder: no separator, no leading dot or dash, printable."""
    return (bool(name) and "/" not in name and "\\" not in name and name[0] not in ".-"
            and name.isprintable() and name == name.strip())


def parse_sums(text: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for digest, name, line in sums_entries(text):
        if (len(digest) != 64 or digest.strip("0123456789abcdef") or not plain_name(name)
                or name == SUMS or name in entries):
            raise Refused(f"its {SUMS} has a line wheelferry does not write: {line!r}")
        entries[name] = digest
    return entries


def open_payload(handle: IO[bytes]) -> tarfile.TarFile:
    """The payload, a tar archive starting where `handle` stands."""
    try:
        return tarfile.open(fileobj=handle, mode="r:")
    except tarfile.TarError as exc:
        raise Refused(f"its payload is not a tar archive ({exc})") from exc


def read_payload(archive: tarfile.TarFile, header: Header) -> Payload:
    members = archive.getmembers()
    names = [member.name for member in members]
    odd = [m.name for m in members if not (m.isreg() and plain_name(m.name))]
    if odd or not names or names[0] != SUMS or len(set(names)) != len(names):
        raise Refused(f"its payload is not a wheelhouse that wheelferry packed ({names[:3]}...)")
    source = archive.extractfile(members[0])
    data = source.read() if source is not None else b""
    if hashlib.sha256(data).hexdigest() != header.sums_sha256:
        raise Refused(f"its {SUMS} is not the one its header names")
    sums = parse_sums(data.decode("utf-8"))
    unlisted = [name for name in names[1:] if name not in sums]
    if unlisted:
        raise Refused(f"its payload holds files {SUMS} does not list: {', '.join(unlisted)}")
    return Payload(tuple(members), sums)


def not_there(base: Path | None, names: list[str], sums: dict[str, str]) -> list[str]:
    """Which of the wheels a delta keeps are missing from `base`, or differ from SHA256SUMS."""
    bad = []
    for name in names:
        path = base / name if base is not None else None
        if path is None or not path.is_file():
            bad.append(f"{name} (missing)")
        elif sha256_file(path) != sums[name]:
            bad.append(f"{name} (different)")
    return bad


def merge_block(existing: str | None, script: InitScript, where: Path) -> str:
    """init.sh's new text, by initscript.merge_block's rules: the user's lines kept, the one
    marked block replaced in place, or the block appended; broken markers are refused."""
    if existing is None or not existing.strip():
        return script.new_file_head + script.block
    lines = existing.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.strip() == script.begin]
    ends = [i for i, line in enumerate(lines) if line.strip() == script.end]
    if not begins and not ends:
        text = existing if existing.endswith("\n") else existing + "\n"
        return text + "\n" + script.block
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise Refused(f"{where} has {len(begins)} '{script.begin}' and {len(ends)} "
                      f"'{script.end}' marker lines, not one pair in order: fix or remove the "
                      "markers by hand (keeping your own lines), then run this again")
    return "".join(lines[: begins[0]]) + script.block + "".join(lines[ends[0] + 1:])


def check_places(folder: Path, home: Path) -> None:
    persistent = home / "persistent-home"
    if not persistent.is_dir():
        raise Refused(f"there is no {persistent} here: run this on the platform, as the user "
                      "whose home holds persistent-home")
    target = folder.resolve()
    for protected in (home.resolve(), persistent.resolve()):
        if target == protected or target in protected.parents:
            raise Refused(f"the install dir {folder} would replace {protected} whole: set "
                          "install-dir to a folder inside ~/persistent-home and bundle again")
    if folder.exists() and not folder.is_dir():
        raise Refused(f"{folder} exists and is not a folder")
    if folder.is_dir() and os.path.ismount(folder):
        raise Refused(f"{folder} is a mount point, which cannot be replaced whole")
    existing = next(p for p in (folder.parent, *folder.parent.parents) if p.exists())
    if not os.access(existing, os.W_OK):
        raise Refused(f"{existing} is not writable for you")


def stage(archive: tarfile.TarFile, payload: Payload, header: Header,
          base: Path | None) -> tuple[Path, int]:
    """The new wheelhouse, complete and checked, in a staging folder beside the install dir;
    returns it and how many kept wheels were hard-linked. Removed again on any failure."""
    staging = staging_folder(header.install_dir)
    try:
        for member in payload.members:
            source = archive.extractfile(member)
            assert source is not None  # a regular file (read_payload checked)
            expected = payload.sums.get(member.name, header.sums_sha256)
            write_checked(source, staging / member.name, expected)
        linked = 0
        for name in payload.kept:
            assert base is not None  # the delta's check found them there
            linked += place_kept(base / name, staging / name, payload.sums[name])
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, linked


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(header: Header, script: InitScript) -> int:
    folder, home = header.install_dir, Path(os.environ.get("HOME", "/nonexistent"))
    init_path = home / "persistent-home" / "init.sh"
    check_places(folder, home)
    with header.bundle.open("rb") as handle:
        handle.seek(header.offset)
        with open_payload(handle) as archive:
            payload = read_payload(archive, header)
            base = current_wheelhouse(folder)
            missing = not_there(base, payload.kept, payload.sums)
            if missing:
                where = (f"there is no wheelhouse at {folder}" if base is None else
                         f"the wheelhouse at {folder} is not the one it was made over")
                raise Refused(
                    f"this is a delta bundle and {where}: these wheels it keeps from there are "
                    f"not there: {', '.join(missing)}. Make a full bundle ('wheelferry bundle' "
                    f"without --since), or a delta --since the {SUMS} that is there now")
            old_text = (init_path.read_bytes().decode("utf-8", "surrogateescape")
                        if init_path.is_file() else None)
            new_text = merge_block(old_text, script, init_path)
            # Every check passed: from here on, things change.
            staging, linked = stage(archive, payload, header, base)
    carried = len(payload.members)
    say(f"unpacked {carried} file(s) into a staging folder beside {folder}"
        + (f", kept {len(payload.kept)} wheel(s) from the wheelhouse already there "
           f"({linked} hard-linked)" if payload.kept else "")
        + f"; every file matches {SUMS}")
    try:
        previous = swap(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for path in [previous, *leftovers(folder, OLD_MARK), *leftovers(folder, STAGING_MARK)]:
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)
    say(f"put the new wheelhouse in place at {folder} ({len(payload.sums) + 1} files"
        + ("; the previous one was replaced whole)" if base is not None else ")"))
    if old_text == new_text:
        say(f"{init_path} already holds this wheelferry block (unchanged)")
    else:
        write_file(init_path, new_text.encode("utf-8", "surrogateescape"))
        say(f"created {init_path} with wheelferry's block" if old_text is None else
            f"wrote wheelferry's block into {init_path} (your own lines are unchanged)")
    say("installing the packages now, as init.sh will at every start:")
    installed = subprocess.run([sys.executable or "python3", "-", str(folder)],
                               input=script.installer.encode("utf-8"), check=False)
    if installed.returncode != 0:
        say("the wheelhouse and init.sh are in place, but installing now failed (see above); "
            "every desktop or job start tries again through init.sh")
        return INSTALL_FAILED
    say(f"done: the packages are installed (once, into {folder.parent}), and every desktop or "
        f"job start links them through {init_path}. You can delete {header.bundle}.")
    return 0


def main(argv: list[str], script: InitScript) -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    if sys.platform != "win32":  # the platform is Linux; the guard is for type checkers
        signal.signal(signal.SIGHUP, _interrupted)
    try:
        return run(Header.from_argv(argv), script)
    except Refused as refusal:
        say(f"refused: {refusal}. Nothing was changed.")
        return REFUSED
    except OSError as error:
        say(f"stopped: {error}. Whatever was begun was undone: the wheelhouse at the install "
            "dir is the previous one or the new one, whole.")
        return REFUSED
    except KeyboardInterrupt:
        say("interrupted. Whatever was begun was undone: the wheelhouse at the install dir is "
            "the previous one or the new one, whole.")
        return INTERRUPTED
