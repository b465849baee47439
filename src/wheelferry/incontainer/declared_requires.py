"""What an sdist declares it needs to build, read from the sdist itself (pyproject's
build-system.requires, else the legacy default, plus setup_requires from setup.cfg or a plain
setup.py), and what a built wheel requires (its Requires-Dist, and those hidden in its
description) against the lock.

Shared by the in-container scripts (build_wheels.py, build_retries.py, dated_build.py,
lock_dated_tools.py, release_dates.py). Stdlib only, besides `packaging` (in the toolchain's
venv; pip vendors it otherwise).
"""

from __future__ import annotations

import ast
import configparser
import email.message
import email.parser
import importlib
import tarfile
import zipfile
from pathlib import Path
from typing import Any

try:
    from packaging import requirements, utils
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import requirements, utils  # type: ignore[no-redef]

# What pip builds a source tree with when its pyproject.toml names no build requirements.
LEGACY_BUILD_REQUIRES = ("setuptools>=40.8.0", "wheel")


# -- what an sdist declares -------------------------------------------------------------------


def toml_loads(text: str) -> dict[str, Any]:
    """Python 3.10 has no tomllib: tomli (in the toolchain's venv) or pip's vendored copy."""
    for module_name in ("tomllib", "tomli", "pip._vendor.tomli"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        loaded: dict[str, Any] = module.loads(text)
        return loaded
    raise RuntimeError("no TOML parser (tomllib, tomli or pip's) to read pyproject.toml")


def sdist_member(sdist: Path, name: str) -> str | None:
    """The text of `name` at the top of the sdist's source tree (`<dir>/<name>`), if present."""
    if sdist.name.endswith(".zip"):
        with zipfile.ZipFile(sdist) as archive:
            for member in archive.namelist():
                if _top_level(member, name):
                    return archive.read(member).decode("utf-8", errors="replace")
        return None
    with tarfile.open(sdist) as archive:
        for entry in archive.getmembers():
            if entry.isfile() and _top_level(entry.name, name):
                handle = archive.extractfile(entry)
                return handle.read().decode("utf-8", errors="replace") \
                    if handle is not None else None
    return None


def _top_level(member: str, name: str) -> bool:
    parts = [part for part in member.split("/") if part not in ("", ".")]
    return len(parts) == 2 and parts[1] == name


def sdist_build_requires(sdist: Path) -> list[str]:
    """What pip installs to build the sdist: its pyproject.toml's [build-system] requires, else
    the legacy default (setuptools>=40.8.0 and wheel)."""
    text = sdist_member(sdist, "pyproject.toml")
    if text is None:
        return list(LEGACY_BUILD_REQUIRES)
    build_system = toml_loads(text).get("build-system")
    if not isinstance(build_system, dict) or "requires" not in build_system:
        return list(LEGACY_BUILD_REQUIRES)
    requires = build_system["requires"]
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise ValueError(f"[build-system] requires is not a list of strings: {requires!r}")
    return list(requires)


def setup_requires(sdist: Path) -> list[str]:
    """The sdist's setup_requires, where it states them plainly: setup.cfg's [options], or a
    literal list (or a name bound to one) passed to setup() in setup.py."""
    found: list[str] = []
    cfg = sdist_member(sdist, "setup.cfg")
    if cfg is not None:
        parser = configparser.ConfigParser()
        try:
            parser.read_string(cfg)
            value = parser.get("options", "setup_requires", fallback="")
        except configparser.Error:
            value = ""
        found += [line.strip() for line in value.replace(";", "\n").splitlines()
                  if line.strip() and not line.strip().startswith("#")]
    script = sdist_member(sdist, "setup.py")
    if script is not None:
        found += _setup_py_requires(script)
    return [text for text in dict.fromkeys(found) if _valid(text)]


def _setup_py_requires(script: str) -> list[str]:
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return []
    bound: dict[str, ast.expr] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            bound[node.targets[0].id] = node.value
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg != "setup_requires":
                continue
            value = keyword.value
            if isinstance(value, ast.Name):
                value = bound.get(value.id, value)
            try:
                literal = ast.literal_eval(value)
            except ValueError:
                return []
            if isinstance(literal, str):
                literal = [literal]
            if isinstance(literal, (list, tuple)):
                return [item for item in literal if isinstance(item, str)]
    return []


def _valid(text: str) -> bool:
    try:
        requirements.Requirement(text)
    except requirements.InvalidRequirement:
        return False
    return True


def declared_build_requires(sdist: Path) -> list[str]:
    """Everything the sdist declares for its build: build-system.requires and setup_requires."""
    declared = sdist_build_requires(sdist)
    names = {_name(text) for text in declared}
    return declared + [text for text in setup_requires(sdist) if _name(text) not in names]


def _name(text: str) -> str:
    try:
        return str(utils.canonicalize_name(requirements.Requirement(text).name))
    except requirements.InvalidRequirement:
        return text


# -- what a built wheel requires --------------------------------------------------------------


def _wheel_metadata(wheel: Path) -> email.message.Message | None:
    """The wheel's METADATA (in its top-level .dist-info), parsed; None when it has none."""
    with zipfile.ZipFile(wheel) as archive:
        name = next((member for member in archive.namelist()
                     if member.count("/") == 1 and member.endswith(".dist-info/METADATA")), None)
        if name is None:
            return None
        return email.parser.Parser().parsestr(archive.read(name).decode("utf-8", "replace"))


def wheel_requires(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist that apply here (this interpreter, no extra)."""
    metadata = _wheel_metadata(wheel)
    if metadata is None:
        return []
    found = []
    for text in metadata.get_all("Requires-Dist") or []:
        try:
            requirement = requirements.Requirement(text)
        except requirements.InvalidRequirement:
            continue
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            found.append(str(requirement))
    return found


def unlocked_requires(wheel: Path, locked_versions: dict[str, str]) -> list[str]:
    """What the built wheel requires that the lock (name -> version) does not satisfy: its
    sdist's metadata, which the resolver read, did not say so."""
    missing = []
    for text in wheel_requires(wheel):
        requirement = requirements.Requirement(text)
        version = locked_versions.get(str(utils.canonicalize_name(requirement.name)))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            missing.append(text)
    return missing


def hidden_requires(wheel: Path) -> list[str]:
    """Requires-Dist lines a wheel's METADATA holds in its description (after the blank line
    that ends the headers), when its headers hold none: an earlier field with a blank line in it
    (sklearn 0.0's author_email) pushed them there, where no installer reads them."""
    metadata = _wheel_metadata(wheel)
    if metadata is None:
        return []
    if metadata.get_all("Requires-Dist"):
        return []
    body = metadata.get_payload()
    if not isinstance(body, str):
        return []
    return [line.split(":", 1)[1].strip() for line in body.splitlines()
            if line.startswith("Requires-Dist:") and line.split(":", 1)[1].strip()]
