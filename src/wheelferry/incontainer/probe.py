"""Runs in an image with its own python3: prints what the interpreter is.

Output: one line `WHEELFERRY-PROBE <json>` with the version, machine and the interpreter's
supported wheel tags, most preferred first, so that the host checks wheels against the target,
not itself. With `--platform` (the platform's own image, run as the platform's user): also its
C library, the user and home, whether the user site is enabled and the Python is externally
managed (PEP 668), every distribution the Python already has (what the platform provides), and
the shared libraries the loader finds (their sonames: a wheel need not carry those).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import site
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

try:
    from packaging import tags
except ImportError:  # the bare image: pip vendors the same library
    try:
        from pip._vendor.packaging import tags  # type: ignore[no-redef]
    except ImportError:  # a platform's Python without pip: no tags to offer
        tags = None  # type: ignore[assignment]

if TYPE_CHECKING:  # messages for the types only: the probe runs alone in any image's python3
    from wheelferry.everywhere import sonames
    from wheelferry.incontainer import messages
else:
    try:  # in the container, everywhere/'s modules sit beside the scripts
        import sonames
    except ImportError:  # loaded from the package
        from wheelferry.everywhere import sonames


def provided() -> list[list[str]]:
    found = []
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.append([name, dist.version])
    return found


# The sonames the loader finds, as the fingerprint script reports them on the platform.
shared_libraries = sonames.shared_libraries


def platform_facts() -> messages.PlatformFactsReport:
    libc, libc_version = platform.libc_ver()
    # Containers are Linux: the guard tells type checkers run for other hosts so.
    uid, gid = -1, -1
    if sys.platform != "win32":
        uid, gid = os.getuid(), os.getgid()
    stdlib = Path(sysconfig.get_path("stdlib"))
    return {
        "libc": libc,
        "libc_version": libc_version,
        "uid": uid,
        "gid": gid,
        "home": str(Path.home()),
        "user_site_enabled": bool(site.ENABLE_USER_SITE),
        "externally_managed": (stdlib / "EXTERNALLY-MANAGED").is_file(),
        "executable": sys.executable,
        "distributions": provided(),
        "libraries": shared_libraries(),
    }


facts: messages.ProbeReport = {
    "version": platform.python_version(),
    "implementation": sys.implementation.name,
    "machine": platform.machine(),
    "tags": [str(tag) for tag in tags.sys_tags()] if tags is not None else [],
}
if "--platform" in sys.argv[1:]:
    everything: messages.PlatformProbeReport = {**facts, **platform_facts()}
    print("WHEELFERRY-PROBE " + json.dumps(everything))
else:
    print("WHEELFERRY-PROBE " + json.dumps(facts))
