"""Turn pip's and pip-compile's output into what the user should do. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from wheelferry.incontainer import build_needs
from wheelferry.incontainer.system_needs import SystemNeed, missing_system_part, own_file_missing

# The build tools that still had a module today's removed: what an override caps them at.
_REMOVED_BY = {
    "pkg_resources": "setuptools<81", "setuptools": "setuptools<72", "numpy": "numpy<2",
    "distutils": "setuptools<81", "Cython": "cython<3",
}

_NO_DISTRIBUTION = re.compile(
    r"(?:No matching distribution found for|Could not find a version that satisfies the "
    r"requirement) ([^\s(]+)")
_NOTHING_HERE = re.compile(r"^==> (\S+ \S+ has no file for this Python.*)$", re.MULTILINE)
_FIRST_RELEASE = re.compile(r"the first release with one is (\S+)$")
_NETWORK = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Max retries exceeded",
    "Connection refused",
    "Network is unreachable",
    "Read timed out",
    "IncompleteRead",
    "Connection broken",
    "CERTIFICATE_VERIFY_FAILED",
)
_CUT_OFF = ("incomplete-download", "Connection interrupted while downloading",
            "not enough bytes were received")
# Only a real conflict says so; "ResolutionImpossible" also wraps a plain missing release.
_CONFLICT = ("conflicting dependencies", "Could not find a version that matches")
_HASH_MISMATCH = "THESE PACKAGES DO NOT MATCH THE HASHES"


# How pip's resolver names each side of a conflict (pip-compile shows it in its traceback).
_CONFLICT_SIDE = re.compile(
    r"RequirementInformation\(requirement=SpecifierRequirement\('(?P<requirement>[^']+)'\), "
    r"parent=(?:None|LinkCandidate\('(?P<url>[^' ]+))")


@dataclass(frozen=True)
class Diagnosis:
    summary: str
    hint: str


def missing_module(log: str) -> str | None:
    """The last module a log says was missing, as its full dotted name."""
    found = build_needs.missing_modules(log)
    return found[-1] if found else None


def system_need_advice(package: str, need: SystemNeed,
                       configured: Sequence[str] = ()) -> Diagnosis:
    """What to add when `package`'s build lacks an OS part: one override with every OS package
    its build needs (`configured`: those it has already)."""
    summary = (f"building {package} needs {need.describe()} from the operating system, which "
               "the build image lacks")
    if need.package:
        listed = ", ".join(f'"{name}"' for name in dict.fromkeys([*configured, need.package]))
        return Diagnosis(summary, (
            f"Add to pyproject.toml (the package as Debian and Ubuntu name it, for Debian-based "
            f"build images such as python:X.Y):\n[tool.wheelferry.overrides.{package}]\n"
            f"system-packages = [{listed}]"))
    listed = ", ".join(f'"{name}"' for name in dict.fromkeys([*configured, "PACKAGE"]))
    return Diagnosis(summary, (
        f"Find the OS package that provides {need.name} for the build image (on Debian, "
        f"`apt-file search {need.name}`) and add to pyproject.toml, its name in place of "
        f"PACKAGE:\n[tool.wheelferry.overrides.{package}]\nsystem-packages = [{listed}]"))


def dated_pins(log: str, package: str) -> list[str]:
    """The build tools of its release date that the last retry of `package` took, as the log
    announces them ("==> P: ... retrying with those of its release date (DAY): a==1, b==2")."""
    found = re.findall(rf"==> {re.escape(package)}: [^\n]*retrying with those of its release "
                       r"date \([^)]*\): ([^\n]+)", log, flags=re.IGNORECASE)
    if not found:
        return []
    return [pin.strip() for pin in found[-1].split(",") if "==" in pin]


def override_snippet(package: str, requires: Sequence[str]) -> str:
    """The override that gives `package`'s build everything in `requires` at once."""
    listed = ", ".join(f'"{need}"' for need in dict.fromkeys(requires))
    return (f"[tool.wheelferry.overrides.{package}]\n"
            f"build-requires = [{listed}]\n"
            "no-build-isolation = true")


def override_hint(package: str, module: str, *, known: Sequence[str] = (),
                  distribution: str | None = None) -> str:
    """What to add when `package`'s build imports `module` undeclared: one override with
    everything it needs at once (`known`: what was configured or found already)."""
    if module == "numpy.distutils" or module.startswith("numpy.distutils."):
        return (f"{package}'s build imports '{module}', which numpy 2 removed: it builds only "
                "against numpy 1, and the numpy it is built against is the one that ships beside "
                "it. Add numpy<2 to your requirements file.")
    if build_needs.removed_module(module):
        cap = _REMOVED_BY.get(module.split(".")[0], "setuptools<81")
        return (f"{package}'s build imports '{module}', which today's build tools removed; it "
                "needs the build tools of its day. Add to pyproject.toml:\n"
                + override_snippet(package, [*known, cap, "wheel"]))
    name = distribution or build_needs.distribution_of(module)
    if distribution is None:
        return (f"{package}'s build imports '{module}' without declaring it. Add to "
                "pyproject.toml:\n" + override_snippet(package, [*known, name]))
    return (f"{package}'s build imports '{module}' without declaring it, and no distribution "
            f"named '{name}' provides it. Find the distribution that does (its import name is "
            f"'{module}') and add to pyproject.toml, with that name in place of "
            f"DISTRIBUTION:\n" + override_snippet(package, [*known, "DISTRIBUTION"]))


def diagnose(log: str, *, package: str | None = None, tried_dated: bool = False,
             whole_log: str = "") -> Diagnosis | None:
    """The most specific explanation of a pip failure found in its output, if any
    (`tried_dated`: the output is that of a retry with the build tools of its release date;
    `whole_log`: every attempt's output, where that retry was announced)."""
    if "No space left on device" in log:
        return Diagnosis(
            "the disk is full (No space left on device)",
            "Free some space on the disk that holds the wheelhouse, or choose another "
            "'wheelhouse', then run again.",
        )
    if "Read-only file system" in log:
        return Diagnosis("the output folder is read-only",
                         "Make the wheelhouse's folder writable, or choose another 'wheelhouse'.")
    if "CERTIFICATE_VERIFY_FAILED" in log:
        return Diagnosis(
            "the package index's TLS certificate was not trusted inside the container",
            "Set 'ca-bundle' in [tool.wheelferry] to the PEM bundle your network needs.",
        )
    if any(marker in log for marker in _CUT_OFF):
        return Diagnosis(
            "a download from the index was cut off, even after pip's own retries (network error)",
            "Check the network and run again; nothing was changed.",
        )
    if any(marker in log for marker in _NETWORK):
        return Diagnosis(
            "the package index could not be reached from the container (network error)",
            "Check the network and the index settings (index-url, extra-index-urls, network) "
            "and run again; nothing was changed.",
        )
    if _HASH_MISMATCH in log:
        return Diagnosis(
            "a downloaded file does not match the hash in the lock",
            "The index served a different file than the one locked: check the index, or "
            "re-lock with --upgrade-package NAME if the release was replaced on purpose.",
        )
    need = missing_system_part(log)
    named = package or build_needs.failing_package(log)
    if need is not None and named:
        return system_need_advice(named, need)
    own = own_file_missing(log)
    if own is not None and named:
        return Diagnosis(
            f"{named}'s sdist is incomplete: its C code includes its own file {own}, which the "
            "sdist does not hold (broken as published; no OS package brings it)",
            f"Pin another release of {named} in your requirements file (one whose sdist is "
            "complete, or that has a wheel for this Python).")
    module = missing_module(log)
    if module and package is None:
        package = build_needs.failing_package(log)
    if module and package and ("setup.py" in log or "egg_info" in log or "build" in log):
        if build_needs.removed_module(module):
            return Diagnosis(f"building {package} needs the module '{module}', which today's "
                             "build tools removed", override_hint(package, module))
        return Diagnosis(f"building {package} needs the module '{module}', which it does not "
                         "declare", override_hint(package, module))
    if module and ("metadata" in log or "egg_info" in log):
        return Diagnosis(
            f"an sdist's setup.py imports '{module}' without declaring it",
            "wheelferry could not tell from the output which package that is. Find the sdist "
            "whose setup.py imports it and add an override for it: "
            + override_hint("PACKAGE", module).split("\n", 1)[1],
        )
    if any(marker in log for marker in _CONFLICT):
        return Diagnosis(
            "the requirements conflict: no set of versions satisfies all of them",
            "Relax or fix the pins named in the log below.",
        )
    found = _NO_DISTRIBUTION.findall(log)
    if found:
        # The lock container's reading of the index's listing, when it could say more.
        listed = _NOTHING_HERE.findall(log)
        first = _FIRST_RELEASE.search(listed[-1]) if listed else None
        return Diagnosis(
            f"no release matches '{found[-1]}' on the configured index for this Python"
            + (f" ({listed[-1]})" if listed else ""),
            f"Pin {first.group(1)} or a later release of it instead, then run again."
            if first else "Check the name and version (and that it supports the target Python), "
            "then run again.",
        )
    if "ResolutionImpossible" in log:
        return Diagnosis(
            "the requirements conflict: no set of versions satisfies all of them",
            "Relax or fix the pins named in the log below.",
        )
    failing = build_needs.failing_package(log)
    if failing and tried_dated:
        return Diagnosis(
            f"{failing} could not be built, even with the build tools of its release date",
            f"The lines below show why, in its own words. Pin a newer release of {failing} in "
            "your requirements file, one that has a wheel for this Python or builds on it. Only "
            "if the lines name something its build needs that it does not declare (as 'install "
            "python3-usb' names pyusb), give it that with an override, the distribution's name "
            "in place of DISTRIBUTION, beside the tools of its release date that were tried:\n"
            + override_snippet(failing, ["DISTRIBUTION", *dated_pins(whole_log or log, failing)]))
    if failing:
        return Diagnosis(
            f"{failing} could not be built (preparing its metadata runs its build step)",
            f"The lines below show why. If {failing} is an old release whose build tools "
            "have moved on (Cython 3, setuptools removals), pin a newer release of it, or "
            "give it the build tools of its day with an override (build-requires = "
            '["setuptools<NN", ...] and no-build-isolation = true).')
    return None


def provided_conflict(log: str, provided: Mapping[str, str]) -> Diagnosis | None:
    """A resolution that failed because a requirement excludes the version of a package the
    platform provides (`provided`: canonical name -> version), or because the index lacks that
    version, named with the way out."""
    named = [*_NO_DISTRIBUTION.findall(log),
             *(m["requirement"] for m in _CONFLICT_SIDE.finditer(log))]
    for text in named:
        try:
            missing = Requirement(text)
        except InvalidRequirement:
            continue
        name = canonicalize_name(missing.name)
        # A requirement that admits the provided version failed all the same: the index
        # cannot serve that version.
        if name in provided and missing.specifier.contains(provided[name], prereleases=True):
            return Diagnosis(
                f"the platform provides {name} {provided[name]}, but the configured index has "
                "no such release for this Python, so the lock cannot pin it",
                f"Add an index that has {name} {provided[name]} (extra-index-urls), or resolve "
                f'your own version with replace-provided = ["{name}"] in [tool.wheelferry].')
    for match in _CONFLICT_SIDE.finditer(log):
        try:
            requirement = Requirement(match["requirement"])
        except InvalidRequirement:
            continue
        name = canonicalize_name(requirement.name)
        if name not in provided:
            continue
        who = "your requirements ask for" if match["url"] is None \
            else f"{_artifact(match['url'])} requires"
        return Diagnosis(
            f"{who} {requirement}, but the platform provides {name} {provided[name]}, which "
            "the lock must keep",
            f"Relax that requirement (or pin a release that works with {name} "
            f"{provided[name]}), or ship your own {name} on purpose: replace-provided = "
            f'["{name}"] in [tool.wheelferry] (the proof then checks that the platform\'s own '
            "packages still work with it).")
    return None


def _artifact(url: str) -> str:
    """'requests 2.31.0' from the URL of a wheel or sdist (the file name if it does not parse)."""
    file = url.rsplit("/", 1)[-1].split("#", 1)[0]
    try:
        if file.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(file)
        else:
            name, version = parse_sdist_filename(file)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return file
    return f"{name} {version}"
