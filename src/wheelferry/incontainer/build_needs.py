"""What an sdist needs to build, read from the sdist itself and from a failed build's log: what
it declares (pyproject's build-system.requires, else the legacy default, plus setup_requires),
the modules a failed attempt missed, whether such a module is one that today's build tools
removed (then the build tools of the sdist's day are the answer, never a distribution named
after the module), and which package the resolver or pip said failed.

Shared by the in-container scripts (build_wheels.py, compile_locks.py). Stdlib only, besides
`packaging` (in the toolchain's venv; pip vendors it otherwise).
"""

from __future__ import annotations

import ast
import configparser
import email.parser
import importlib
import re
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
# A line that starts a new attempt in a package's build log: the host tells attempts apart.
ATTEMPT = "# wheelferry-attempt: "
MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")
# Modules that older build tools provided and today's no longer do (setuptools 81 dropped
# pkg_resources, numpy 2 numpy.distutils, Python 3.12 distutils, setuptools 72 its test
# command, Cython 3 its old build_ext): the sdist needs the build tools of its release date.
REMOVED_MODULES = (
    "pkg_resources", "numpy.distutils", "distutils", "setuptools.command.test",
    "setuptools.command.upload", "setuptools.command.register", "setuptools.extern",
    "setuptools.sandbox", "Cython.Distutils.old_build_ext",
)
# The distribution that had each removed module: a retry with the build tools of an sdist's
# day takes it of that day (a numpy that still has numpy.distutils).
REMOVED_FROM = {
    "pkg_resources": "setuptools", "numpy.distutils": "numpy", "distutils": "setuptools",
    "setuptools": "setuptools", "Cython": "cython",
}
# Build tools: a retry with the build tools of an sdist's day takes them of its day even where
# the lock pins them (the lock's Cython 3 is what broke it); what the lock pins besides (numpy,
# scipy: compiled against, shipped beside) is taken at the locked version.
BUILD_TOOLS = frozenset({
    "setuptools", "wheel", "cython", "setuptools-scm", "pybind11", "scikit-build", "cmake",
    "ninja", "meson", "meson-python", "packaging", "pip", "versioneer", "extension-helpers",
    "flit-core", "hatchling", "poetry-core", "pdm-backend", "numpy-distutils",
})
# Build requirements that stand for a locked distribution: built against the numpy that ships.
LOCKED_AS = {"oldest-supported-numpy": "numpy"}
# Modules published under another distribution name; any other module is looked up by its own.
MODULE_DISTRIBUTIONS = {
    "cv2": "opencv-python-headless", "PIL": "pillow", "sklearn": "scikit-learn",
    "skimage": "scikit-image", "skbuild": "scikit-build", "yaml": "pyyaml",
    "Cython": "cython", "google": "protobuf", "pybind11": "pybind11", "numpy": "numpy",
    "setuptools_scm": "setuptools-scm", "dateutil": "python-dateutil", "Crypto": "pycryptodome",
    "OpenSSL": "pyopenssl", "bs4": "beautifulsoup4", "wx": "wxpython", "attr": "attrs",
    "jwt": "pyjwt", "serial": "pyserial", "usb": "pyusb", "git": "gitpython",
}
# How the resolver or pip names the package whose build failed (uv: `name==1.0` or
# `name@1.0`; pip: 'name', or a bare name alone at the end of its line). Generic sentences
# ("Failed to build one or more wheels", "installable wheels for some ...") are no names.
_FAILED_PACKAGE = (
    re.compile(r"Failed to (?:download and )?build `([A-Za-z0-9][\w.-]*?)(?:[=@][^`]*)?`"),
    re.compile(r"`([A-Za-z0-9][\w.-]*)@[^`]+` depends on"),
    re.compile(r"Failed to build '([A-Za-z0-9][\w.-]*)'"),
    re.compile(r"^\s*(?:ERROR: )?Failed to build ([A-Za-z0-9][\w.-]*)\s*$", re.MULTILINE),
    re.compile(r"^\s*Building wheel for ([A-Za-z0-9][\w.-]*) \(.*\) \.\.\. error\s*$",
               re.MULTILINE),
    # compile_locks.py's own line, once it learned which sdist pip was processing.
    re.compile(r"^==> ([A-Za-z0-9][\w.-]*): preparing its metadata failed", re.MULTILINE),
)
METADATA_FAILED = "preparing its metadata failed"
# What pip says it is working on (shown without --quiet): the last one is what failed.
_PROCESSING = re.compile(r"^\s*(?:Collecting|Processing) (\S+)", re.MULTILINE)


def missing_modules(log: str) -> list[str]:
    """The modules a log says were missing (dotted names), in order."""
    return MISSING_MODULE.findall(log)


def removed_module(module: str) -> bool:
    """Whether `module` is one that older build tools provided and today's removed."""
    return any(module == gone or module.startswith(gone + ".") for gone in REMOVED_MODULES)


def removed_from(module: str) -> str | None:
    """The distribution whose older releases had `module`, a removed one (None: not known)."""
    for prefix, owner in sorted(REMOVED_FROM.items(), key=lambda item: -len(item[0])):
        if module == prefix or module.startswith(prefix + "."):
            return owner
    return None


def requirement_name(text: str) -> str:
    """A requirement's canonical name, standing for what it is locked as (oldest-supported-numpy
    is numpy); "" when it does not parse."""
    try:
        own = str(utils.canonicalize_name(requirements.Requirement(text).name))
    except requirements.InvalidRequirement:
        return ""
    return LOCKED_AS.get(own, own)


def distribution_of(module: str) -> str:
    """The distribution most likely to provide `module` (its top-level package)."""
    top = module.split(".")[0]
    return str(utils.canonicalize_name(MODULE_DISTRIBUTIONS.get(top, top)))


def failing_package(log: str) -> str | None:
    """The package the resolver or pip said failed to build (its last such statement), as a
    canonical name; None when the log names none."""
    found: list[tuple[int, str]] = []
    for pattern in _FAILED_PACKAGE:
        found += [(match.start(), match.group(1)) for match in pattern.finditer(log)]
    if not found:
        return None
    return str(utils.canonicalize_name(max(found)[1]))


def processing_package(log: str) -> str | None:
    """The package pip was processing last (`Collecting name==1.0`, `Processing
    ./name-1.0.tar.gz`), as a canonical name."""
    found = _PROCESSING.findall(log)
    if not found:
        return None
    text = found[-1]
    filename = text.rsplit("/", 1)[-1]
    try:
        if filename.endswith(".whl"):
            return str(utils.parse_wheel_filename(filename)[0])
        if filename.endswith((".tar.gz", ".zip", ".tar.bz2", ".tgz")):
            return str(utils.parse_sdist_filename(filename)[0])
        return str(utils.canonicalize_name(requirements.Requirement(text).name))
    except (utils.InvalidWheelFilename, utils.InvalidSdistFilename,
            requirements.InvalidRequirement, ValueError):
        return None


def attempts(log: str) -> list[tuple[str, str]]:
    """A build log split at its attempt lines: (what the attempt was, its own output). What
    comes before the first attempt (fetching: pip prepares metadata to download) is left out
    when there are attempts; a log with none is one part, "fetching it"."""
    parts: list[tuple[str, str]] = []
    title, lines = "fetching it", list[str]()
    for line in log.splitlines(keepends=True):
        if line.startswith(ATTEMPT):
            if parts:
                parts.append((title, "".join(lines)))
            else:
                parts.append(("", ""))  # the fetching preamble, dropped below
            title, lines = line[len(ATTEMPT):].strip(), []
        else:
            lines.append(line)
    parts.append((title, "".join(lines)))
    return parts[1:] if len(parts) > 1 else parts


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


def wheel_requires(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist that apply here (this interpreter, no extra)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next((member for member in archive.namelist()
                     if member.count("/") == 1 and member.endswith(".dist-info/METADATA")), None)
        if name is None:
            return []
        metadata = email.parser.Parser().parsestr(archive.read(name).decode("utf-8", "replace"))
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
    with zipfile.ZipFile(wheel) as archive:
        name = next((member for member in archive.namelist()
                     if member.count("/") == 1 and member.endswith(".dist-info/METADATA")), None)
        if name is None:
            return []
        metadata = email.parser.Parser().parsestr(archive.read(name).decode("utf-8", "replace"))
    if metadata.get_all("Requires-Dist"):
        return []
    body = metadata.get_payload()
    if not isinstance(body, str):
        return []
    return [line.split(":", 1)[1].strip() for line in body.splitlines()
            if line.startswith("Requires-Dist:") and line.split(":", 1)[1].strip()]
