"""elfcheck: the GLIBC symbol versions the ELF files in a wheel require, read from real shared
libraries that the host's gcc compiles into real wheel zips, against the platform's glibc. No
engine. The versions asserted are those readelf -V and objdump -T show for these libraries on an
x86_64 host with glibc >= 2.34 (Debian bookworm: glibc 2.36), where pthread_create lives in libc
at GLIBC_2.34; the fixture fails, rather than skips, on any other host."""

from __future__ import annotations

import platform
import random
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerSymSection
from elftools.elf.sections import SymbolTableSection
from tests.support import make_wheel

from wheelferry.target.elfcheck import GlibcNeed, describe, glibc_needs, too_new

NEW_SOURCE = """#include <pthread.h>
static void *run(void *arg) { return arg; }
int start(void) { pthread_t thread; return pthread_create(&thread, 0, run, 0); }
"""
OLD_SOURCE = """#include <string.h>
size_t copy(char *to, const char *from) { memcpy(to, from, strlen(from) + 1); return strlen(to); }
"""
NEW_WHEEL = "wferryfx_cext-1.0-cp310-cp310-linux_x86_64.whl"
NEW_MEMBER = "wferryfx_cext/_native.cpython-310-x86_64-linux-gnu.so"
OLD_WHEEL = "wferryfx_old-1.0-cp310-cp310-linux_x86_64.whl"
OLD_MEMBER = "wferryfx_old/_speedups.cpython-310-x86_64-linux-gnu.so"


@pytest.fixture(scope="module")
def libraries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The two shared libraries, compiled once: "new" calls pthread_create, "old" only strlen
    and memcpy."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is not on PATH: these tests compile real shared libraries with it")
    glibc = platform.libc_ver()[1]
    if platform.machine() != "x86_64" or not glibc or tuple(map(int, glibc.split("."))) < (2, 34):
        pytest.fail(f"these tests assert the symbol versions of an x86_64 glibc >= 2.34; this "
                    f"host is {platform.machine()} with glibc {glibc or 'unknown'}")
    folder = tmp_path_factory.mktemp("elf")
    built: dict[str, bytes] = {}
    for name, source in (("new", NEW_SOURCE), ("old", OLD_SOURCE)):
        (folder / f"{name}.c").write_text(source)
        done = subprocess.run([gcc, "-shared", "-fPIC", "-O0", "-o", str(folder / f"{name}.so"),
                               str(folder / f"{name}.c")], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            pytest.fail(f"gcc could not compile {name}.c:\n{done.stderr}")
        built[name] = (folder / f"{name}.so").read_bytes()
    return built


def test_needs_name_each_symbol_and_the_glibc_version_it_needs(
        tmp_path: Path, libraries: dict[str, bytes]) -> None:
    new = make_wheel(tmp_path, NEW_WHEEL, {NEW_MEMBER: libraries["new"]})
    old = make_wheel(tmp_path, OLD_WHEEL, {OLD_MEMBER: libraries["old"]})
    assert glibc_needs(new) == [
        GlibcNeed(wheel=NEW_WHEEL, member=NEW_MEMBER, symbol="__cxa_finalize", version=(2, 2, 5)),
        GlibcNeed(wheel=NEW_WHEEL, member=NEW_MEMBER, symbol="pthread_create", version=(2, 34))]
    assert glibc_needs(old) == [
        GlibcNeed(wheel=OLD_WHEEL, member=OLD_MEMBER, symbol="__cxa_finalize", version=(2, 2, 5)),
        GlibcNeed(wheel=OLD_WHEEL, member=OLD_MEMBER, symbol="strlen", version=(2, 2, 5)),
        GlibcNeed(wheel=OLD_WHEEL, member=OLD_MEMBER, symbol="memcpy", version=(2, 14))]


def test_an_older_platform_glibc_flags_the_wheel_the_file_and_the_symbol(
        tmp_path: Path, libraries: dict[str, bytes]) -> None:
    needs = (glibc_needs(make_wheel(tmp_path, NEW_WHEEL, {NEW_MEMBER: libraries["new"]}))
             + glibc_needs(make_wheel(tmp_path, OLD_WHEEL, {OLD_MEMBER: libraries["old"]})))
    flagged = [GlibcNeed(wheel=NEW_WHEEL, member=NEW_MEMBER, symbol="pthread_create",
                         version=(2, 34))]
    assert too_new(needs, "2.31") == flagged
    assert too_new(needs, "2.33") == flagged
    assert too_new(needs, "2.34") == []
    assert too_new(needs, "2.36") == []


def test_a_library_of_old_symbols_loads_on_an_old_glibc(
        tmp_path: Path, libraries: dict[str, bytes]) -> None:
    needs = glibc_needs(make_wheel(tmp_path, OLD_WHEEL, {OLD_MEMBER: libraries["old"]}))
    assert too_new(needs, "2.17") == []
    # Versions compare as numbers: memcpy's 2.14 is newer than 2.2.5, 2.5 and 2.13.
    memcpy = [GlibcNeed(wheel=OLD_WHEEL, member=OLD_MEMBER, symbol="memcpy", version=(2, 14))]
    assert too_new(needs, "2.13") == memcpy
    assert too_new(needs, "2.5") == memcpy


def test_a_wheel_without_elf_files_needs_nothing(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "wferryfx_pure-1.0-py3-none-any.whl",
                       {"wferryfx_pure/data/fake.so": b"not an ELF file\n",
                        "wferryfx_pure/data/empty.so": b"", "wferryfx_pure/data/": b""})
    assert glibc_needs(wheel) == []


@pytest.mark.parametrize("platform_glibc", ["", "musl", "glibc 2.35", "2.x"])
def test_a_platform_glibc_that_does_not_parse_flags_nothing(platform_glibc: str) -> None:
    need = GlibcNeed(wheel=NEW_WHEEL, member=NEW_MEMBER, symbol="pthread_create", version=(2, 34))
    assert too_new([need], platform_glibc) == []


def test_an_elf_file_that_does_not_parse_is_skipped(
        tmp_path: Path, libraries: dict[str, bytes]) -> None:
    noise = b"\x7fELF" + random.Random(9).randbytes(4096)
    wheel = make_wheel(tmp_path, NEW_WHEEL, {"wferryfx_cext/_noise.so": noise,
                                             "wferryfx_cext/_cut.so": libraries["new"][:1024],
                                             NEW_MEMBER: libraries["new"]})
    assert {need.member for need in glibc_needs(wheel)} == {NEW_MEMBER}


def test_a_version_no_symbol_uses_is_a_need_without_a_symbol(
        tmp_path: Path, libraries: dict[str, bytes]) -> None:
    # The library with pthread_create's version index set to 1 (global): GLIBC_2.34 is still
    # among its version needs, but no symbol points to it.
    data = bytearray(libraries["new"])
    with (tmp_path / "new.so").open("w+b") as handle:
        handle.write(data)
        elf = ELFFile(handle)
        versions = elf.get_section_by_name(".gnu.version")
        table = elf.get_section_by_name(".dynsym")
        assert isinstance(versions, GNUVerSymSection)
        assert isinstance(table, SymbolTableSection)
        symbols = [symbol.name for symbol in table.iter_symbols()]
        data[versions["sh_offset"] + 2 * symbols.index("pthread_create")] = 1
    wheel = make_wheel(tmp_path, NEW_WHEEL, {NEW_MEMBER: bytes(data)})
    needs = glibc_needs(wheel)
    assert GlibcNeed(wheel=NEW_WHEEL, member=NEW_MEMBER, symbol="", version=(2, 34)) in needs
    assert "pthread_create" not in {need.symbol for need in needs}
    assert describe(too_new(needs, "2.31")[0], "2.31") == (
        f"{NEW_WHEEL}: {NEW_MEMBER} needs GLIBC_2.34, but the platform has glibc 2.31")


def test_too_new_keeps_one_need_per_file_at_its_highest_version() -> None:
    def need(member: str, symbol: str, version: tuple[int, ...]) -> GlibcNeed:
        return GlibcNeed(wheel=NEW_WHEEL, member=member, symbol=symbol, version=version)

    needs = [need("b.so", "", (2, 34)), need("b.so", "stat", (2, 33)),
             need("b.so", "pthread_join", (2, 34)), need("b.so", "pthread_create", (2, 34)),
             need("a.so", "fcntl64", (2, 28)), need("c.so", "memcpy", (2, 14))]
    assert too_new(needs, "2.27") == [need("a.so", "fcntl64", (2, 28)),
                                      need("b.so", "pthread_create", (2, 34))]


def test_describe_is_one_line_naming_the_wheel_file_version_symbol_and_platform() -> None:
    need = GlibcNeed(wheel=NEW_WHEEL, member=NEW_MEMBER, symbol="pthread_create", version=(2, 34))
    assert describe(need, "2.31") == (
        "wferryfx_cext-1.0-cp310-cp310-linux_x86_64.whl: "
        "wferryfx_cext/_native.cpython-310-x86_64-linux-gnu.so needs GLIBC_2.34 "
        "(pthread_create), but the platform has glibc 2.31")


def test_a_member_without_the_elf_magic_is_not_read_whole(tmp_path: Path) -> None:
    # A stored member larger than zipfile's first read, damaged past its first bytes: reading it
    # whole would fail its CRC check.
    wheel = make_wheel(tmp_path, "wferryfx_pure-1.0-py3-none-any.whl", {})
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr(zipfile.ZipInfo("wferryfx_pure/big.dat"), b"#data\n" + b"x" * 65536)
    wheel.write_bytes(wheel.read_bytes().replace(b"x" * 100, b"y" * 100, 1))
    with zipfile.ZipFile(wheel) as archive:
        assert archive.testzip() == "wferryfx_pure/big.dat"
    assert glibc_needs(wheel) == []


def test_a_version_count_past_the_last_entry_does_not_hang_the_check(
        tmp_path: Path, libraries: dict[str, bytes]) -> None:
    # The version needs header claims 2**32 - 1 entries; the loader stops at the entry whose next
    # offset is 0, and so must the check (run apart, so that a hang fails instead of hanging).
    data = bytearray(libraries["new"])
    with (tmp_path / "new.so").open("w+b") as handle:
        handle.write(data)
        elf = ELFFile(handle)
        index = next(number for number, section in enumerate(elf.iter_sections())
                     if section.name == ".gnu.version_r")
        header = elf["e_shoff"] + index * elf["e_shentsize"]
    data[header + 44:header + 48] = b"\xff" * 4  # sh_info of an Elf64_Shdr
    wheel = make_wheel(tmp_path, NEW_WHEEL, {NEW_MEMBER: bytes(data)})
    done = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                           "from wheelferry.target.elfcheck import glibc_needs; "
                           "print(max(n.version for n in glibc_needs(Path(sys.argv[1]))))",
                           str(wheel)], capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "(2, 34)\n", "")


def test_a_file_that_is_not_a_zip_is_named(tmp_path: Path) -> None:
    wheel = tmp_path / "broken-1.0-py3-none-any.whl"
    wheel.write_bytes(b"not a zip")
    with pytest.raises(zipfile.BadZipFile, match=re.escape(str(wheel))):
        glibc_needs(wheel)
