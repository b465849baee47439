"""An import failure of the proof, judged: its cause, whether it fails verify, and the way out
that works.

Failures (verify exits 6): a top-level module that does not import, and anywhere an error that
shows the wheelhouse itself is broken (an undefined symbol, a missing GLIBC_x.y, a missing shared
library that a shipped wheel carries, a binary incompatibility such as numpy's, a wrong ELF class).
Warnings: a submodule that needs what the wheelhouse cannot give: a module its distribution
declares only under an extra, or a system library no shipped wheel carries (Tk, a display, a GPU
driver). A submodule failure that none of these explains is left to the upstream check (is it
broken in the distribution as published too?).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from packaging.utils import canonicalize_name

from wheelferry.proving.bounds import (
    NO_ATTRIBUTE,
    NUMPY,
    NUMPY2_REMOVED,
    NUMPY_COPY,
    SIZE_CHANGED,
    Bound,
    numpy_removed_name,
    smoke_bound,
)
from wheelferry.proving.proof_facts import Facts, ImportFailure

# What a failed import does to verify: fails it, only warns, or waits for the upstream check
# (does the module fail as published too?).
Severity = Literal["failure", "warning", "upstream"]
FAILURE: Severity = "failure"
WARNING: Severity = "warning"
UPSTREAM: Severity = "upstream"
# The class of a failed import, each with its own cause and way out.
Kind = Literal["undefined-symbol", "glibc", "elf", "numpy-removed", "missing-module", "extra",
               "left-out", "crash", "other", "system-library", "shipped-library",
               "binary-incompatible"]
UNDEFINED = re.compile(r"undefined symbol: (\S+)")
NEEDED_VERSION = re.compile(r"version [`'](GLIBC(?:XX)?_[\d.]+|CXXABI_[\d.]+)' not found")
ELF = re.compile(r"wrong ELF class: ELFCLASS\d+|invalid ELF header|ELF file [^\n]*(?:invalid|"
                 r"not (?:little|big)-endian)")
NO_LIBRARY = re.compile(r"([\w.+-]+\.so[\w.+-]*): cannot open shared object file")
VENDORED = re.compile(r"-[0-9a-f]{8}\.so")  # auditwheel's name for a library it bundled
@dataclass(frozen=True)
class Verdict:
    failure: ImportFailure
    kind: Kind
    severity: Severity
    cause: str
    advice: str


def judge(failure: ImportFailure, facts: Facts) -> Verdict:
    """The failure's class, severity, cause and way out."""
    # The exception's type too: "AttributeError: module 'numpy' has no attribute 'float'".
    f, text = failure, f"{failure.type}: {failure.message}\n{failure.output}"
    dist, version = f.distribution, facts.environment.get(f.distribution, "")
    where = facts.input_of(dist)
    fallback = (f"pin a release of {dist} that works with the shipped packages in {where}, or "
                f"add '{f.module}' to skip-imports if you never import it")

    def verdict(kind: Kind, severity: Severity, cause: str, advice: str) -> Verdict:
        return Verdict(failure, kind, severity, cause, advice)

    if found := UNDEFINED.search(text):
        return verdict("undefined-symbol", FAILURE,
                       f"its compiled code needs the symbol {found.group(1)}, which nothing "
                       "loaded with it defines: it was built against other versions of its "
                       "libraries (or of Python) than the ones installed",
                       f"pick a release of {dist} built for the shipped versions (pin it in "
                       f"{where}), or pin its dependencies to the versions it was built for")
    if found := NEEDED_VERSION.search(text):
        return verdict("glibc", FAILURE,
                       f"it needs {found.group(1)}, newer than the system libraries of "
                       f"{facts.image}",
                       f"pick a release of {dist} whose wheel supports the platform's C library "
                       f"(pin it in {where}), or build from sdists in an image with the "
                       "platform's C library ('image' in [tool.wheelferry])")
    if found := ELF.search(text):
        return verdict("elf", FAILURE,
                       f"its compiled code is for another kind of machine ({found.group(0)})",
                       "build in an image of the platform's architecture: its wheel is not "
                       "for this platform")
    if NUMPY.search(text) or SIZE_CHANGED.search(text):
        return _binary_incompatible(failure, facts)
    if found := NO_LIBRARY.search(text):
        return _missing_library(failure, facts, found.group(1))
    if NUMPY2_REMOVED.search(text) or NUMPY_COPY.search(text) or numpy_removed_name(text) or (
            (found := NO_ATTRIBUTE.search(text)) is not None
            and found.group(1).split(".")[0] == "numpy"):
        # Code written for an older numpy than the one installed: the bound brings it back.
        removed = NUMPY2_REMOVED.search(text)
        bound = (Bound("numpy<2", f"it uses what numpy 2.0 removed ({removed.group(0)})")
                 if removed is not None else smoke_bound(text, facts)
                 or Bound("numpy<2", "numpy 2 removed what it uses"))
        bounded = bound.requirement.split("<")[0]
        where_bound = facts.input_of(bounded)
        installed = facts.environment.get(bounded, "")
        # Not the wheelhouse's doing: the release's own requirements let the resolver pick it.
        cause = bound.cause + (f"; {dist}'s published requirements allow {bounded} {installed}, "
                               "which it was not written for" if installed else "")
        return verdict("numpy-removed", FAILURE if f.top else UPSTREAM, cause,
                       f"add '{bound.requirement}' to {where_bound}")
    # Keyed by canonical name; the proof reports a distribution as its metadata spells it.
    lacking = facts.left_out.get(str(canonicalize_name(dist)))
    named = f.missing or next(iter(re.findall(r"No module named '([\w.]+)'", f.message)), "")
    own = named.split(".")[0]
    if lacking and f.type == "ModuleNotFoundError" and own \
            and canonicalize_name(facts.providers.get(own, dist)) == canonicalize_name(dist):
        # Not a broken release: its build left the compiled part out (build warned of it).
        package = lacking[1] if len(lacking) > 1 and lacking[1] else "the OS package for it"
        modules = ", ".join(lacking[2:])
        what = (f"the compiled module(s) {modules}, which its published wheels have" if modules
                else "its optional compiled part")
        return verdict("left-out", WARNING,
                       f"{dist} was built without {what}: " + (
                           f"its build lacked {lacking[0]} from the operating system"
                           if lacking[0] else "its build log shows no cause"),
                       f"add system-packages = [\"{package}\"] to "
                       f"[tool.wheelferry.overrides.{dist}] in pyproject.toml and build again")
    if f.type == "crash":
        return verdict("crash", FAILURE if f.top else UPSTREAM, "",
                       f"pick another release of {dist} (pin it in {where}), or add "
                       f"'{f.module}' to skip-imports if you never import it")
    gone = (f.missing or "").split(".")[0]
    if gone and gone not in facts.providers:
        if f.stdlib:
            return _system(failure, facts, f"the standard module {gone}, which the Python of "
                           f"{facts.image} was built without")
        extra = _extra_for(gone, facts.extras.get(dist, ()))
        if extra is not None:
            # A top-level module too (black's blackd), while the distribution's others work.
            usable = not f.top or any(m != f.module and not m.startswith(f"{f.module}.")
                                      for m in facts.imported.get(dist, ()))
            return verdict("extra", WARNING if usable else FAILURE,
                           f"it needs {gone}, which {dist} requires only with its extra "
                           f"'{extra}' (not installed)",
                           f"add '{dist}[{extra}]' to {where}" + (" if you use it" if usable
                                                                  else ""))
        extras = sorted({extra for _, extra in facts.extras.get(dist, ())})
        cause = (f"it needs the module {gone}, which no installed distribution provides and "
                 f"{dist} {version} does not require"
                 + (f" (one of its extras may: {', '.join(extras)})" if extras else ""))
        return verdict("missing-module", FAILURE if f.top else UPSTREAM, cause,
                       f"add the distribution that provides '{gone}' to {where}" if f.top
                       else fallback)
    return verdict("other", FAILURE if f.top else UPSTREAM, "", fallback)


def _extra_for(module: str, extras: tuple[tuple[str, str], ...]) -> str | None:
    """The extra under which the distribution requires what provides `module`, judged by name
    (aiohttp, aiohttp_cors -> aiohttp-cors, yaml -> pyyaml, dateutil -> python-dateutil)."""
    wanted = canonicalize_name(module)
    names = {wanted, canonicalize_name(f"py{module}"), canonicalize_name(f"python-{module}")}
    for requirement, extra in extras:
        if canonicalize_name(requirement) in names:
            return extra
    return None


def _system(failure: ImportFailure, facts: Facts, what: str) -> Verdict:
    dist = failure.distribution
    if failure.top:
        return Verdict(failure, "system-library", FAILURE, f"it needs {what}",
                       "if the platform has it, prove in the platform's own image (set "
                       f"platform-image); otherwise pick a variant of {dist} that bundles it (a "
                       f"'-headless' build, say), or add '{failure.module}' to skip-imports if "
                       "you never import it")
    return Verdict(failure, "system-library", WARNING,
                   f"it needs {what}; only this module is affected (a GUI backend, display or "
                   "driver works where the platform has what it needs)", "")


def _missing_library(failure: ImportFailure, facts: Facts, library: str) -> Verdict:
    dist, where = failure.distribution, facts.input_of(failure.distribution)
    stem = library.split(".so")[0]
    carrier = facts.libraries.get(library) or next(
        (d for lib, d in facts.libraries.items() if lib.split(".so")[0] == stem), None)
    if carrier is None and not VENDORED.search(library):
        return _system(failure, facts, f"the system library {library}, which {facts.image} "
                       "lacks and no shipped wheel carries")
    cause = (f"it needs {library}, which belongs in the wheelhouse (a library bundled into a "
             "wheel)" if carrier is None else
             f"it needs {library}, which {carrier}'s wheel carries, but the loader cannot find it")
    if carrier is None:
        advice = (f"{dist}'s wheel is incomplete: pick another release of {dist} (pin it in "
                  f"{where})")
    elif carrier == dist:
        advice = (f"{dist}'s wheel does not find the library it bundles: pick another release "
                  f"of {dist} (pin it in {where})")
    elif dist in facts.built:
        advice = (f"{dist} was built here against {library} from {carrier}'s wheel, which "
                  f"only {carrier} itself can load: pick a release of {dist} with a published "
                  "wheel for the target, or have the platform provide the library")
    else:
        advice = (f"pick releases of {dist} and {carrier} made for each other (pin them in "
                  f"{where})")
    return Verdict(failure, "shipped-library", FAILURE, cause, advice)


def _binary_incompatible(failure: ImportFailure, facts: Facts) -> Verdict:
    text = f"{failure.message}\n{failure.output}"
    dist, where = failure.distribution, facts.input_of(failure.distribution)
    sized = SIZE_CHANGED.search(text)
    module = "numpy" if NUMPY.search(text) or sized is None else sized.group(1).split(".")[0]
    dep = facts.providers.get(module, module)
    version = facts.environment.get(dep, "")
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    installed = f"{dep} {version}" if version else dep
    cause = f"it was compiled against another {dep} than the installed {installed}"
    # Built for an older major version than the one installed (numpy 1 against numpy 2)?
    older = major >= 2 and "compiled against API version" not in text
    if older:
        advice = (f"add '{dep}<{major}' to {where}, or pick a release of {dist} built for "
                  f"{dep} {major}")
    else:
        advice = (f"pick a release of {dist} built for {installed} (pin it in {where}), or pin "
                  f"{dep} to the version {dist} was built for")
    if dist in facts.built:
        advice += (f"; {dist} was built here from its sdist: if its build saw another {dep}, "
                   f"building it against the shipped one fixes it ([tool.wheelferry.overrides."
                   f"{dist}] build-requires = ['{dep}'], no-build-isolation = true)")
    return Verdict(failure, "binary-incompatible", FAILURE, cause, advice)
