"""The platform describes itself: `wheelferry fingerprint` writes this module's source (after
everywhere/sonames.py's) as fingerprint.py, and the user runs it once on the platform, where
wheelferry cannot go:

    python3 fingerprint.py > platform.json

It prints one JSON object: the Python (version, implementation, ABI, executable), the wheel tags
it supports (from pip's own packaging, else from the C library and the Python), the C library
(glibc and its version), the machine, the user and home, whether the user site is enabled and
which prefixes are writable, every installed distribution with its version (as pip lists
them; never what wheelferry installed into persistent-home), and the shared libraries the loader
finds (their sonames: a wheel built for the platform need not carry those).
`provided = "platform.json"` then takes it in place of a freeze file.

Runs there: Python 3.8 or later, the standard library only, nothing of wheelferry imported.
"""

from __future__ import annotations

import getpass
import json
import os
import platform
import site
import sys
import sysconfig
from typing import Any

from wheelferry.everywhere.sonames import shared_libraries

FORMAT = 1
INSTALLS_MARK = ".wheelferry-installs"


def glibc() -> str:
    """The C library's version when it is glibc ('2.35'), else ''."""
    if sys.platform == "win32":  # the platform is Linux; the guard is for type checkers
        return ""
    try:
        found = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        found = ""
    name, _, version = found.partition(" ")
    return version if name == "glibc" else ""


def fallback_tags(libc: str) -> list[str]:
    """The tags a CPython on Linux supports, most specific first, without packaging."""
    major, minor = sys.version_info[:2]
    python = f"cp{major}{minor}"
    abi = python + str(getattr(sys, "abiflags", ""))
    machine = platform.machine()
    platforms = []
    if libc:
        glibc_major, glibc_minor = (int(part) for part in libc.split(".")[:2])
        platforms += [f"manylinux_{glibc_major}_{m}_{machine}" for m in range(glibc_minor, 4, -1)]
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        platforms += [f"{legacy[m]}_{machine}" for m in sorted(legacy, reverse=True)
                      if glibc_major == 2 and m <= glibc_minor]
    platforms.append(f"linux_{machine}")
    tags = [f"{python}-{abi}-{p}" for p in platforms]
    tags += [f"{python}-abi3-{p}" for p in platforms]
    tags += [f"cp{major}{m}-abi3-{p}" for m in range(minor - 1, 1, -1) for p in platforms]
    tags += [f"{python}-none-{p}" for p in platforms]
    tags += [f"py{major}{m}-none-{p}" for m in range(minor, -1, -1) for p in platforms[-1:]]
    tags += [f"{python}-none-any", f"py{major}-none-any"]
    tags += [f"py{major}{m}-none-any" for m in range(minor, -1, -1)]
    return tags


def supported_tags(libc: str) -> list[str]:
    for module in ("pip._vendor.packaging.tags", "packaging.tags"):
        try:
            tags: Any = __import__(module, fromlist=["sys_tags"])
            return [str(tag) for tag in tags.sys_tags()]
        except Exception:  # an old or odd pip: the answer from the C library follows
            continue
    return fallback_tags(libc)


def writable(path: str) -> bool:
    while path and not os.path.exists(path):
        path = os.path.dirname(path)
    return bool(path) and os.access(path, os.W_OK)


def distributions() -> dict[str, str]:
    """Every installed distribution the interpreter sees, first on the path wins, but those
    wheelferry installed into persistent-home."""
    import importlib.metadata

    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        where = str(dist.locate_file(""))
        if not name or INSTALLS_MARK in where:
            continue
        found.setdefault(name, dist.version)
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def describe() -> dict[str, Any]:
    libc = glibc()
    home = os.path.expanduser("~")
    user_site = site.getusersitepackages()
    paths = sysconfig.get_paths()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = ""
    return {
        "format": FORMAT,
        "generator": "wheelferry fingerprint",
        "python": {"version": platform.python_version(),
                   "implementation": sys.implementation.name,
                   "abi": sysconfig.get_config_var("SOABI") or "",
                   "executable": sys.executable,
                   "prefix": sys.prefix, "base_prefix": sys.base_prefix},
        "tags": supported_tags(libc),
        "libc": {"name": "glibc" if libc else "", "version": libc},
        "machine": platform.machine(),
        "user": {"name": user, "uid": os.getuid() if hasattr(os, "getuid") else None,
                 "home": home},
        "user_site": {"enabled": bool(site.ENABLE_USER_SITE), "path": user_site,
                      "scripts": os.path.join(site.getuserbase(), "bin")},
        "writable": {"purelib": writable(paths["purelib"]),
                     "scripts": writable(paths["scripts"]),
                     "user_site": writable(user_site),
                     "home": writable(home),
                     "persistent_home": writable(os.path.join(home, "persistent-home"))},
        "externally_managed": os.path.isfile(os.path.join(paths["stdlib"],
                                                          "EXTERNALLY-MANAGED")),
        "distributions": distributions(),
        "libraries": shared_libraries(),
    }


def main() -> int:
    json.dump(describe(), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
