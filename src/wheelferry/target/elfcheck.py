"""Whether the platform's C library can load the wheels built in the image. A wheel whose extension
modules were linked against a newer glibc than the platform's installs without complaint and then
fails at import ("version `GLIBC_2.34' not found"). The GLIBC_x.y versions each ELF file in a wheel
requires (its version needs, mapped to the dynamic symbols that use them) are compared with the
platform's glibc, so the wheel, the file and a symbol can be named before the wheelhouse ships."""

from __future__ import annotations

import re
import shutil
import struct
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from elftools.common.exceptions import ELFError
from elftools.construct.core import ConstructError
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection, GNUVerSymSection

from wheelferry.core.errors import BuildError

ELF_MAGIC = b"\x7fELF"
# An ELF member up to this size is parsed in memory; a bigger one is copied to a temporary file.
IN_MEMORY = 32 << 20
GLIBC_VERSION = re.compile(r"GLIBC_(\d+(?:\.\d+)+)")
PLATFORM_VERSION = re.compile(r"\d+(?:\.\d+)*")
# What parsing a corrupt ELF file raises (the loader could not load it either): pyelftools' errors,
# and from offsets past any file, OverflowError in memory or OSError (EINVAL) on a spilled copy.
UNPARSABLE = (ELFError, ConstructError, struct.error, ValueError, LookupError, ArithmeticError,
              EOFError, OSError)


@dataclass(frozen=True)
class GlibcNeed:
    """One GLIBC symbol version an ELF file in a wheel requires, with a dynamic symbol that uses it
    ("" when no symbol does, only the version is required)."""

    wheel: str
    member: str
    symbol: str
    version: tuple[int, ...]


def glibc_needs(wheel: Path) -> list[GlibcNeed]:
    """Every GLIBC_x.y version the ELF files in the wheel require, once per symbol that uses it.
    A member is read only if it starts with the ELF magic, and then once; an ELF file that cannot
    be parsed is skipped. A file that is not a zip archive raises BadZipFile naming it."""
    needs: set[GlibcNeed] = set()
    try:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                with archive.open(info) as member:
                    head = member.read(len(ELF_MAGIC))
                    if head != ELF_MAGIC:
                        continue
                    with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY) as copy:
                        copy.write(head)
                        shutil.copyfileobj(member, copy)
                        copy.seek(0)
                        needs.update(GlibcNeed(wheel=wheel.name, member=info.filename,
                                               symbol=symbol, version=version)
                                     for symbol, version in _versions_used(copy))
    except zipfile.BadZipFile as error:
        raise zipfile.BadZipFile(f"{wheel}: not a readable zip archive: {error}") from error
    return sorted(needs, key=lambda need: (need.member, need.version, need.symbol))


def too_new(needs: Iterable[GlibcNeed], platform_glibc: str) -> list[GlibcNeed]:
    """The needs a platform with glibc `platform_glibc` (as platform.libc_ver() reports it, e.g.
    "2.35") cannot satisfy: one per (wheel, member), at the highest version that file needs, with
    a symbol that needs it. Nothing when the platform's version does not parse (musl, unknown)."""
    if not PLATFORM_VERSION.fullmatch(platform_glibc.strip()):
        return []
    platform = _numbers(platform_glibc.strip())
    by_file: dict[tuple[str, str], list[GlibcNeed]] = {}
    for need in needs:
        by_file.setdefault((need.wheel, need.member), []).append(need)
    flagged: list[GlibcNeed] = []
    for key in sorted(by_file):
        highest = max(need.version for need in by_file[key])
        if highest > platform:
            at_highest = [need for need in by_file[key] if need.version == highest]
            flagged.append(min(at_highest, key=lambda need: (not need.symbol, need.symbol)))
    return flagged


def describe(need: GlibcNeed, platform_glibc: str) -> str:
    """One line for the user: the wheel, the file, the version it needs (and a symbol that needs
    it), and the platform's glibc."""
    used_by = f" ({need.symbol})" if need.symbol else ""
    return (f"{need.wheel}: {need.member} needs GLIBC_{'.'.join(map(str, need.version))}{used_by},"
            f" but the platform has glibc {platform_glibc or 'unknown'}")


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _versions_used(stream: IO[bytes]) -> set[tuple[str, tuple[int, ...]]]:
    """(symbol, version) for each GLIBC version the ELF file needs: from the version needs
    (.gnu.version_r), whose indexes the version of each dynamic symbol (.gnu.version) points to."""
    try:
        sections = list(ELFFile(stream).iter_sections())
        versions: dict[int, tuple[int, ...]] = {}
        for section in sections:
            if isinstance(section, GNUVerNeedSection):
                # Walked as the loader walks it, to the entry whose next offset is 0 (the count a
                # corrupt header claims could run to billions).
                for entry, auxiliaries in section.iter_versions():
                    for auxiliary in auxiliaries:
                        if match := GLIBC_VERSION.fullmatch(auxiliary.name):
                            versions[auxiliary["vna_other"]] = _numbers(match[1])
                        if auxiliary["vna_next"] == 0:
                            break
                    if entry["vn_next"] == 0:
                        break
        used: set[tuple[str, tuple[int, ...]]] = set()
        for section in sections:
            if isinstance(section, GNUVerSymSection):
                for symbol in section.iter_symbols():
                    index = symbol["ndx"]  # an enum name for the reserved indexes 0 and 1
                    # Bit 15 marks a hidden version; the index is in the other 15 bits.
                    if isinstance(index, int) and index & 0x7FFF in versions:
                        used.add((symbol.name, versions[index & 0x7FFF]))
    except UNPARSABLE:
        return set()
    return used | {("", version) for version in set(versions.values())
                   - {version for _, version in used}}


def glibc_too_new(folder: Path, files: Iterable[str], platform_glibc: str) -> list[str]:
    """One line per compiled file among `files` that needs a newer glibc than the platform's:
    such a wheel builds and passes here, then fails to load there."""
    needs = [need for file in files for need in glibc_needs(folder / file)]
    return [describe(need, platform_glibc) for need in too_new(needs, platform_glibc)]


def check_platform_glibc(folder: Path, files: Iterable[str], platform_glibc: str) -> None:
    """Refuse a new wheelhouse that the platform's glibc cannot load."""
    refused = glibc_too_new(folder, files, platform_glibc)
    if refused:
        raise BuildError(
            f"{len(refused)} compiled file(s) need a newer C library (glibc) than the "
            f"platform's {platform_glibc}; they would not load there.",
            hint="Build in an image whose glibc is not newer than the platform's (set 'image' "
            "to one based on the platform's OS release), or pin releases built for older "
            "systems. The previous wheelhouse is unchanged.",
            details="\n".join(refused))
