"""Which modules a distribution has, found from its installed RECORD (runs in the containers,
standard library only, in a fresh interpreter: an install may have just created the user site).

`python3 find_modules.py '["name", ...]'` (or 'null' for every distribution) prints one JSON line:
canonical name -> version, top (top-level modules and packages, a namespace package replaced by
its first real packages or modules), compiled (extension submodules: files that export
PyInit_<name>), libraries (shared libraries that are not modules), extras ([requirement, extra]
for each requirement that applies only with an extra). Stub folders, `.pyi`-only packages,
tests and data folders are not modules.
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata as md
import json
import os
import re
import struct
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the types only: the script runs alone in the image's Python
    from wheelferry.incontainer import messages

SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
TESTS = ("test", "tests")


def exports_pyinit(path: str | os.PathLike[str], name: str) -> bool:
    """Whether the ELF file defines the dynamic symbol PyInit_<name> (what makes a shared library
    a Python extension module). Anything that cannot be read or parsed is not a module."""
    wanted = f"PyInit_{name}".encode() if name.isascii() else b"PyInitU_"
    try:
        with open(path, "rb") as file:
            ident = file.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2):
                return False
            wide, end = ident[4] == 2, "<" if ident[5] == 1 else ">"
            header = file.read(48 if wide else 36)
            shoff, = struct.unpack_from(end + ("Q" if wide else "I"), header, 24 if wide else 16)
            entsize, count = struct.unpack_from(end + "HH", header, 42 if wide else 30)
            if not shoff or count > 65535 or entsize < (64 if wide else 40):
                return False
            file.seek(shoff)
            table = file.read(entsize * count)
            form = end + ("IIQQQQIIQQ" if wide else "IIIIIIIIII")
            sections = [struct.unpack_from(form, table, i * entsize) for i in range(count)]
            for _, kind, _, _, offset, size, link, _, _, symsize in sections:
                if kind != 11 or link >= count or not symsize:  # SHT_DYNSYM, its string table
                    continue
                _, _, _, _, str_offset, str_size, *_ = sections[link]
                file.seek(str_offset)
                strings = file.read(min(str_size, 64 << 20))
                if wanted not in strings:
                    continue
                file.seek(offset)
                symbols = file.read(min(size, 256 << 20))
                for start in range(0, len(symbols) - symsize + 1, symsize):
                    if wide:
                        at, _, _, shndx = struct.unpack_from(end + "IBBH", symbols, start)
                    else:
                        at, _, _, _, _, shndx = struct.unpack_from(end + "IIIBBH", symbols, start)
                    symbol = strings[at:strings.find(b"\0", at)]
                    if shndx and (symbol == wanted or (
                            wanted == b"PyInitU_" and symbol.startswith(wanted))):
                        return True  # defined (not SHN_UNDEF) under the expected name
    except (OSError, struct.error, ValueError, IndexError):
        return False
    return False


def modules_of(files: Iterable[str], is_extension: Callable[[str, str], bool]
               ) -> tuple[list[str], list[str], list[str]]:
    """(top, compiled, libraries) from a distribution's installed files (RECORD paths):
    top-level modules and packages, a namespace package replaced by its first real packages or
    modules; compiled extension submodules; shared libraries that are not modules."""
    packages: set[str] = set()
    modules: dict[str, bool] = {}  # dotted name -> is an extension module
    libraries: set[str] = set()
    for path in files:
        parts = path.replace("\\", "/").split("/")
        if parts[0] in ("", "..") or parts[0].endswith((".dist-info", ".data", ".egg-info")) \
                or "__pycache__" in parts:
            continue
        file = parts[-1]
        suffix = next((s for s in SUFFIXES if file.endswith(s)), None)
        if file.endswith(".py"):
            name = file[:-3]
        elif suffix is not None:
            name = file[: -len(suffix)]
        else:
            if re.search(r"\.so(\.|$)", file):
                libraries.add(file)
            continue
        dotted = [*parts[:-1], name]
        # A compiled package __init__ exports PyInit_<package>.
        if suffix is not None and not is_extension(
                path, dotted[-2] if name == "__init__" and len(dotted) > 1 else name):
            libraries.add(file)
            continue
        if not all(part.isidentifier() for part in dotted) or dotted[0].startswith("__") \
                or any(part in TESTS for part in dotted) or dotted == ["__init__"]:
            continue
        if name == "__init__":
            packages.add(".".join(dotted[:-1]))
        else:
            modules[".".join(dotted)] = suffix is not None
    real = packages | set(modules)
    top: list[str] = []

    def descend(prefix: str) -> None:
        depth = prefix.count(".") + 1
        for child in sorted({name.split(".")[depth] for name in real
                             if name.startswith(prefix + ".")}):
            full = f"{prefix}.{child}"
            if full in real:
                top.append(full)
            else:
                descend(full)

    for first in sorted({name.split(".")[0] for name in real}):
        if first in real:
            top.append(first)
        else:
            descend(first)
    compiled = sorted(name for name, ext in modules.items() if ext and name not in top)
    return top, compiled, sorted(libraries)


def requirement_extras(requires: Iterable[str]) -> list[list[str]]:
    """[name, extra] for each Requires-Dist line that applies only with an extra."""
    found = []
    for line in requires:
        name, _, marker = line.partition(";")
        extra = re.search(r"""extra\s*==\s*['"]([^'"]+)['"]""", marker)
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", name)
        if extra and match:
            found.append([match.group(1), extra.group(1)])
    return found


def _extension_check(dist: md.Distribution) -> Callable[[str, str], bool]:
    def check(path: str, module: str) -> bool:
        return exports_pyinit(str(dist.locate_file(path)), module)
    return check


def describe(wanted: list[str] | None) -> dict[str, messages.ModulesReport]:
    """canonical name -> version, top, compiled, libraries, extras (`wanted` only, else all)."""
    found: dict[str, messages.ModulesReport] = {}
    for dist in md.distributions():
        name = dist.metadata["Name"] or ""
        key = re.sub(r"[-_.]+", "-", name).lower()
        if not key or key in found or (wanted is not None and key not in wanted):
            continue
        if dist.files is None:  # no RECORD: what top_level.txt names
            top = [t for t in (dist.read_text("top_level.txt") or "").split()
                   if t.isidentifier() and t not in TESTS and not t.startswith("__")]
            compiled: list[str] = []
            libraries: list[str] = []
        else:
            top, compiled, libraries = modules_of((str(f) for f in dist.files),
                                                  _extension_check(dist))
        found[key] = {"version": dist.version, "top": top, "compiled": compiled,
                      "libraries": libraries,
                      "extras": requirement_extras(dist.metadata.get_all("Requires-Dist") or [])}
    return found


def main(argv: list[str]) -> int:
    print(json.dumps(describe(json.loads(argv[1]) if len(argv) > 1 else None)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
