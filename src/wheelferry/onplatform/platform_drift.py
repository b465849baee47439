"""What moved on the platform since a wheelhouse was locked against its packages: the versions
the interpreter sees now (from the installed metadata's folder names, nothing opened or
imported) compared with those the wheelhouse's record holds, said for the user.

Runs on the platform with startup.py (3.8 or later, the standard library only): initscript.py
pastes this module's source into init.sh's block with startup.py's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def normal(name: str) -> str:
    out: list[str] = []
    dash = False
    for char in name.lower():
        if char in "-_.":
            dash = True
            continue
        if dash and out:
            out.append("-")
        dash = False
        out.append(char)
    return "".join(out)


def same_version(first: str, second: str) -> bool:
    def cut(version: str) -> str:
        version = version.lower().lstrip("v")
        while version.endswith(".0"):
            version = version[:-2]
        return version

    return cut(first) == cut(second)


def platform_versions(skip: Path) -> dict[str, str]:
    """Every distribution the interpreter sees (its path's *.dist-info and *.egg-info folder
    names, nothing opened or imported), but those under `skip` (wheelferry's installs)."""
    found: dict[str, str] = {}
    for entry in sys.path:
        folder = Path(entry or ".")
        if folder == skip or skip in folder.parents:
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for item in names:
            stem, dot, kind = item.rpartition(".")
            if not dot or kind not in ("dist-info", "egg-info"):
                continue
            name, _, version = stem.partition("-")
            version = version.split("-py")[0] if kind == "egg-info" else version
            if name and version:
                found.setdefault(normal(name), version)
    return found


def drift_message(record: dict[str, Any], installs: Path) -> str | None:
    """Which of the platform's packages moved since the wheelhouse was locked, said for the
    user; None when none did (or the record names none)."""
    locked = record.get("provided") or {}
    if not locked:
        return None
    now = platform_versions(installs)
    moved = []
    for name, version in sorted(locked.items()):
        there = now.get(normal(name))
        if there is None:
            moved.append(f"{name} {version} -> not installed")
        elif not same_version(there, version):
            moved.append(f"{name} {version} -> {there}")
    if not moved:
        return None
    source = record.get("provided_source") or "the platform's packages"
    return ("the platform's packages changed since this wheelhouse was locked against them "
            f"({source}): {', '.join(moved)}. What was shipped was proven with the old "
            "versions and may not work with the new ones: build it again against the "
            "platform as it is now (its new image as platform-image, or a new freeze file or "
            "fingerprint as provided), verify, and upload it. This start goes on.")
