"""What the proof imports (incontainer/find_modules.py, a stdlib-only script): a shared library is
a module only if it exports PyInit_<name> (read from its ELF dynamic symbols); namespace packages
are descended to their first real packages; stubs, tests and data folders are not modules."""

from __future__ import annotations

import _ctypes
import importlib.machinery
import json
import os
import shutil
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from wheelferry.incontainer import find_modules
from wheelferry.incontainer.find_modules import exports_pyinit, modules_of, requirement_extras

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


# -- the ELF reader --------------------------------------------------------------------------------


def elf(symbols: list[tuple[str, int]], *, wide: bool = True, little: bool = True) -> bytes:
    """A minimal ELF file: a header and three sections (null, .dynsym, .dynstr); `symbols` are
    (name, section index: 0 is undefined)."""
    end = "<" if little else ">"
    strings = b"\0" + b"".join(name.encode() + b"\0" for name, _ in symbols)
    offsets, at = [], 1
    for name, _ in symbols:
        offsets.append(at)
        at += len(name) + 1
    symbol_size = 24 if wide else 16
    table = b"\0" * symbol_size
    for offset, (_, shndx) in zip(offsets, symbols, strict=True):
        table += (struct.pack(end + "IBBHQQ", offset, 0x12, 0, shndx, 0x1000, 8) if wide else
                  struct.pack(end + "IIIBBH", offset, 0x1000, 8, 0x12, 0, shndx))
    header_size = 64 if wide else 52
    section_size = 64 if wide else 40
    dynsym_at = header_size
    dynstr_at = dynsym_at + len(table)
    sections_at = dynstr_at + len(strings)
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if little else 2, 1]) + b"\0" * 9
    if wide:
        header = struct.pack(end + "HHIQQQIHHHHHH", 3, 62, 1, 0, 0, sections_at, 0, 64, 56, 0,
                             section_size, 3, 0)
        form = end + "IIQQQQIIQQ"
    else:
        header = struct.pack(end + "HHIIIIIHHHHHH", 3, 3, 1, 0, 0, sections_at, 0, 52, 32, 0,
                             section_size, 3, 0)
        form = end + "IIIIIIIIII"
    sections = struct.pack(form, *[0] * 10)
    sections += struct.pack(form, 0, 11, 2, 0, dynsym_at, len(table), 2, 1, 8, symbol_size)
    sections += struct.pack(form, 0, 3, 2, 0, dynstr_at, len(strings), 0, 0, 1, 0)
    return ident + header + table + strings + sections


@pytest.mark.parametrize(("wide", "little"), [(True, True), (False, True), (True, False),
                                              (False, False)])
def test_a_defined_pyinit_of_the_modules_own_name_makes_a_module(
        tmp_path: Path, wide: bool, little: bool) -> None:
    path = tmp_path / "spam.so"
    path.write_bytes(elf([("malloc", 0), ("PyInit_spam", 7)], wide=wide, little=little))
    assert exports_pyinit(path, "spam")
    assert not exports_pyinit(path, "spa")  # a prefix of the symbol
    assert not exports_pyinit(path, "spammer")


def test_an_undefined_pyinit_reference_is_no_module(tmp_path: Path) -> None:
    path = tmp_path / "libuser.so"
    path.write_bytes(elf([("PyInit_spam", 0)]))
    assert not exports_pyinit(path, "spam")


def test_a_non_ascii_module_name_uses_the_punycode_symbol(tmp_path: Path) -> None:
    path = tmp_path / "m.so"
    path.write_bytes(elf([("PyInitU_mdule_jva", 5)]))
    assert exports_pyinit(path, "mödule")


def test_whatever_cannot_be_parsed_is_no_module(tmp_path: Path) -> None:
    whole = elf([("PyInit_spam", 7)])
    cases = {"empty": b"", "text": b"not an elf file at all, just words" * 4,
             "truncated": whole[:40], "headers-cut": whole[:-30],
             "bad-class": whole[:4] + b"\x07" + whole[5:]}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert not exports_pyinit(tmp_path / name, "spam"), name
    assert not exports_pyinit(tmp_path / "missing.so", "spam")
    assert not exports_pyinit(tmp_path, "spam")  # a folder


def test_a_real_extension_module_exports_its_pyinit() -> None:
    path = Path(_ctypes.__file__)
    assert exports_pyinit(path, "_ctypes")
    assert not exports_pyinit(path, "ctypes")


def test_a_real_plain_library_is_no_module() -> None:
    maps = Path("/proc/self/maps").read_text().split()
    libc = next(p for p in maps if "/libc.so" in p or "/libc-" in p)
    assert not exports_pyinit(libc, "c")
    assert not exports_pyinit(libc, "libc")


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc on the host")
def test_extensions_and_plain_libraries_built_with_gcc(tmp_path: Path) -> None:
    include = sysconfig.get_paths()["include"]
    (tmp_path / "spam.c").write_text(
        "#include <Python.h>\n"
        'static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "spam", 0, -1, 0};\n'
        "PyMODINIT_FUNC PyInit_spam(void) { return PyModule_Create(&m); }\n")
    (tmp_path / "plain.c").write_text(
        "extern void *PyInit_spam(void);\nvoid *call(void) { return PyInit_spam(); }\n"
        "int answer(void) { return 42; }\n")
    module = tmp_path / f"spam{SUFFIX}"
    plain = tmp_path / "libplain.so"
    for source, out in (("spam.c", module), ("plain.c", plain)):
        subprocess.run(["gcc", "-shared", "-fPIC", f"-I{include}", str(tmp_path / source), "-o",
                        str(out)], check=True)
    assert exports_pyinit(module, "spam")
    assert not exports_pyinit(plain, "spam")  # it only calls it
    stripped = tmp_path / f"stripped{SUFFIX}"
    shutil.copy(module, stripped)
    subprocess.run(["strip", str(stripped)], check=True)  # binutils, as gcc's own linker
    assert exports_pyinit(stripped, "spam")  # .dynsym survives strip


# -- which modules a distribution has --------------------------------------------------------------


def find(files: list[str], extensions: tuple[str, ...] = ()) -> tuple[list[str], ...]:
    """modules_of over RECORD paths; `extensions` are the paths that export their PyInit."""
    return modules_of(files, lambda path, name: path in extensions)


def test_a_namespace_package_is_descended_to_its_first_real_packages() -> None:
    top, compiled, libraries = find([
        "ns/sub/__init__.py", "ns/sub/mod.py", "ns/other/deep/__init__.py",
        "ns/other/data.json", "ns/loose.py", f"ns/sub/_fast{SUFFIX}",
        "ns_x-1.0.dist-info/RECORD"], extensions=(f"ns/sub/_fast{SUFFIX}",))
    assert top == ["ns.loose", "ns.other.deep", "ns.sub"]
    assert "ns" not in top
    assert (compiled, libraries) == (["ns.sub._fast"], [])


def test_modules_packages_and_compiled_submodules_but_no_stubs_tests_or_data() -> None:
    top, compiled, libraries = find([
        "pkg/__init__.py", "pkg/core.py", f"pkg/_native{SUFFIX}", "pkg/libs/libfoo.so",
        "pkg.libs/libgfortran-040039e1.so.5.0.0", "single.py", "_private.py",
        "__editable___pkg_finder.py", "pkg-1.0.dist-info/RECORD", "pkg-1.0.data/scripts/x",
        "../../bin/pkg-cli", "pkg/__pycache__/core.cpython-310.pyc", "pkg-stubs/__init__.pyi",
        "pkg-stubs/core.pyi", "typedonly/__init__.pyi", "tests/__init__.py", "tests/test_x.py",
        f"pkg/tests/_t{SUFFIX}", "test/__init__.py", "data/table.csv", "pkg/data/x.csv",
        "pkg/py.typed"], extensions=(f"pkg/_native{SUFFIX}", f"pkg/tests/_t{SUFFIX}"))
    assert top == ["_private", "pkg", "single"]
    assert compiled == ["pkg._native"]
    assert libraries == ["libfoo.so", "libgfortran-040039e1.so.5.0.0"]


def test_a_plain_library_named_like_a_module_is_a_library() -> None:
    top, compiled, libraries = find(["wferryfx_plainlib/__init__.py",
                                     "wferryfx_plainlib/libwferryfx_plain.so"])
    assert (top, compiled, libraries) == (["wferryfx_plainlib"], [], ["libwferryfx_plain.so"])


def test_top_level_and_package_init_extensions() -> None:
    top, compiled, _ = find([f"_speedups{SUFFIX}", f"cpkg/__init__{SUFFIX}", f"cpkg/_x{SUFFIX}"],
                            extensions=(f"_speedups{SUFFIX}", f"cpkg/__init__{SUFFIX}",
                                        f"cpkg/_x{SUFFIX}"))
    assert top == ["_speedups", "cpkg"]
    assert compiled == ["cpkg._x"]


def test_requirements_under_an_extra_are_read_from_the_metadata() -> None:
    assert requirement_extras([
        'aiohttp>=3.10; extra == "d"', "uvloop>=0.15.2 ; extra == 'uvloop'", "click>=8.0.0",
        'colorama>=0.4.3; platform_system == "Windows"',
        'tokenize-rt>=3.2.0; python_version < "3.11" and extra == "jupyter"',
        "zope.interface[testing]; extra=='z'"]) == [
        ["aiohttp", "d"], ["uvloop", "uvloop"], ["tokenize-rt", "jupyter"],
        ["zope.interface", "z"]]


def test_the_script_describes_installed_distributions_from_their_records(tmp_path: Path) -> None:
    site = tmp_path / "site"
    files = {"fakepkg/__init__.py": "", f"fakepkg/_ctypes{SUFFIX}": None,
             "fakepkg/libhelper.so": b"not even an ELF file", "fakepkg-stubs/__init__.pyi": "",
             "tests/__init__.py": "import nothing_here\n"}
    for name, content in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            shutil.copy(_ctypes.__file__, path)  # a real extension: it exports PyInit__ctypes
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    info = site / "fake_pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Fake_Pkg\nVersion: 1.0\n"
                                   'Requires-Dist: serverlib; extra == "server"\n')
    (info / "RECORD").write_text("".join(f"{name},,\n" for name in files)
                                 + "fake_pkg-1.0.dist-info/RECORD,,\n")
    legacy = site / "oldpkg-2.0-py3.10.egg-info"
    legacy.mkdir()
    (legacy / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: oldpkg\nVersion: 2.0\n")
    (legacy / "top_level.txt").write_text("oldpkg\ntests\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-S", find_modules.__file__, json.dumps(None)],
                          capture_output=True, text=True, env=env, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {
        "fake-pkg": {"version": "1.0", "top": ["fakepkg"], "compiled": ["fakepkg._ctypes"],
                     "libraries": ["libhelper.so"], "extras": [["serverlib", "server"]]},
        "oldpkg": {"version": "2.0", "top": ["oldpkg"], "compiled": [], "libraries": [],
                   "extras": []}}
    only = subprocess.run([sys.executable, "-S", find_modules.__file__, '["oldpkg"]'],
                          capture_output=True, text=True, env=env, check=True)
    assert list(json.loads(only.stdout)) == ["oldpkg"]
