"""The shared libraries the loader finds here (their sonames: a wheel need not carry those), as
the platform image's probe (incontainer/probe.py) and the fingerprint script the user runs on
the platform (onplatform/fingerprint.py) both report them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig

# Where the loader looks without ld.so.cache (and where libraries sit on Debian, Red Hat, Alpine).
LIBRARY_DIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib")


def shared_libraries() -> list[str]:
    """The sonames the loader finds here: what ldconfig's cache lists, and the libraries in the
    default folders (their multiarch ones too)."""
    names: set[str] = set()
    for ldconfig in (shutil.which("ldconfig"), "/sbin/ldconfig", "/usr/sbin/ldconfig"):
        if ldconfig and os.path.isfile(ldconfig):
            listed = subprocess.run([ldconfig, "-p"], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True,
                                    check=False).stdout
            names.update(line.split()[0] for line in listed.splitlines()[1:]
                         if line.startswith(("\t", " ")) and ".so" in line.split()[0])
            break
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    folders = [*LIBRARY_DIRS, *(f"{folder}/{multiarch}" for folder in LIBRARY_DIRS if multiarch)]
    for folder in folders:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        names.update(name for name in entries if name.endswith(".so") or ".so." in name)
    return sorted(names)
