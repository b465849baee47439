"""What an sdist needs to build, read from a failed build's log: the modules a failed attempt
missed (and the distribution of each), whether such a module is one that today's build tools
removed (then the build tools of the sdist's day are the answer, never a distribution named
after the module), which package the resolver or pip said failed, and each attempt's part of
the log. What an sdist declares is read by declared_requires.py.

Shared by the in-container scripts (build_wheels.py, compile_locks.py) and the host. Stdlib
only, besides `packaging` (in the toolchain's venv; pip vendors it otherwise).
"""

from __future__ import annotations

import re

try:
    from packaging import requirements, utils
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import requirements, utils  # type: ignore[no-redef]

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
