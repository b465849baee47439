"""Runs in a build image with OS packages (system-packages): carry the shared libraries a built
wheel links into the wheel, as auditwheel does it (`auditwheel repair`: copied in under a
unique name, the extensions' RPATH pointed at them, the tag made a manylinux one the libraries
allow), since the platform cannot install OS packages. What was carried is reported with the OS
package it came from and that package's version.

Stdlib only; auditwheel and patchelf are installed into the build image with its OS packages.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

AUDITWHEEL = [sys.executable, "-m", "auditwheel"]


def linked_libraries(wheel: Path) -> dict[str, str]:
    """soname -> path of every shared library the wheel's ELF files load from the system, as
    the loader here finds them (ldd)."""
    found: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(scratch)
        for path in Path(scratch).rglob("*.so*"):
            if not path.is_file():
                continue
            output = subprocess.run(["ldd", str(path)], capture_output=True, text=True,
                                    check=False).stdout
            for line in output.splitlines():
                name, arrow, rest = line.strip().partition(" => ")
                if arrow and rest.startswith("/"):
                    found[name] = rest.split(" (", 1)[0]
    return found


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


def graft(wheel: Path, out: Path, log: Path, env: dict[str, str]) -> tuple[Path, list[str]]:
    """Repair `wheel` into `out` with auditwheel; (the repaired wheel, one line per library
    carried: "soname from package=version"). Raises RuntimeError when auditwheel fails."""
    before = linked_libraries(wheel)
    out.mkdir(parents=True, exist_ok=True)
    cmd = [*AUDITWHEEL, "repair", "--plat", "auto", "-w", str(out), str(wheel)]
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
