"""What the containers report, declared once. build_wheels.py and build_retries.py fill one
BuildReport per pin and write them to /out/result.json as {"packages": [...]}; compile_locks.py
writes one LockReport; install_system_packages.py one SystemPackagesReport; prove_install.py
prints one ProofReport, upstream_check.py one
UpstreamReport per distribution, probe.py one ProbeReport (PlatformProbeReport with
--platform). The host parses each once (building/outcome.py, locking/outcome.py,
building/systemimage.py, proving/proof_report.py, proving/upstream.py, target/probe_report.py)
into frozen dataclasses, checking every value, since it comes from a container.

Stdlib only.
"""

from __future__ import annotations

from typing import Literal, TypedDict


class SdistReport(TypedDict):
    """The sdist a wheel was built from, as downloaded (its sha256 is checked on the host)."""

    file: str
    sha256: str


class LeftOutReport(TypedDict):
    """A compiled part a build left out: the OS part it lacked (kind and name, "" when the log
    shows none), the OS package that brings it, and the compiled modules the release's
    published wheels have that it lacks."""

    kind: str
    name: str
    package: str
    modules: list[str]


class _Named(TypedDict):
    name: str
    ok: bool


class BuildReport(_Named, total=False):
    """One pin: fetched as a wheel ("downloaded") or built from its sdist ("built"), or the
    step that failed; what its build installed, found and took of its release date; what its
    wheel carries, left out or says about the lock."""

    origin: Literal["downloaded", "built"]
    file: str
    sdist: SdistReport
    step: str
    seconds: float
    build_requires: list[str]
    discovered: list[str]
    missing_module: str
    unknown_distribution: str
    dated_build_requires: list[str]
    dated_build_date: str
    carried: list[str]
    left_out: LeftOutReport
    unlocked_requires: list[str]
    requires_bound: list[str]
    hidden_requires: list[str]


class EraReport(TypedDict, total=False):
    """An input whose old pins had what it does not name locked as of their day
    (resolution_era.py): the day and why, then what was capped (name: version locked), or why
    that day's lock failed and today's stands."""

    date: str
    because: str
    capped: dict[str, str]
    skipped: str


class LockReport(TypedDict, total=False):
    """What the lock container (compile_locks.py) writes to /out/result.json; the host parses
    it once (locking/outcome.py). `failed`: the input (or "build-requires") that could not be
    locked; `discovered`: sdist -> the distributions its metadata needed undeclared; `dated`:
    sdist -> the build tools of its day it needed; `as_of`: input -> its EraReport."""

    ok: bool
    failed: str
    discovered: dict[str, list[str]]
    build_lock: bool
    dated: dict[str, list[str]]
    as_of: dict[str, EraReport]


class ModulesReport(TypedDict):
    """One distribution as find_modules.py finds it installed (read by prove_install.py, in the
    same container): its version, top-level modules, compiled submodules, shared libraries that
    are not modules, and its requirements that apply only with an extra ([requirement, extra])."""

    version: str
    top: list[str]
    compiled: list[str]
    libraries: list[str]
    extras: list[list[str]]


class _ImportErrorType(TypedDict):
    type: str


class ImportErrorReport(_ImportErrorType, total=False):
    """A module that did not import (import_modules.py): the exception's type ("crash" when the
    interpreter died, hung or exited), its message, the module a ModuleNotFoundError in the
    chain names, and the end of what the lone import wrote to stderr."""

    message: str
    missing: str | None
    output: str


class ImportFailureReport(ImportErrorReport, total=False):
    """A shipped module that did not import in the proof: its error, the distribution that
    ships it, whether it is a top-level one, and whether the missing module is a standard one."""

    distribution: str
    module: str
    top: bool
    stdlib: bool


class InitReport(TypedDict):
    """init.sh's run when it did not install what was shipped: its exit code and output's end."""

    code: int
    output: str


class BrokenReport(TypedDict):
    """A platform's distribution whose module imported before init.sh and fails after it."""

    distribution: str
    version: str
    module: str
    replaced: list[str]
    error: str


class SyntaxErrorReport(TypedDict):
    """A shipped .py file that does not compile (compile_shipped.py); `aside`: it sits in a
    tests, test, examples or docs folder."""

    file: str
    line: int
    message: str
    aside: bool


class CompiledReport(TypedDict):
    """One distribution's .py files compiled: how many, and those that failed."""

    compiled: int
    errors: list[SyntaxErrorReport]


class SmokeReport(TypedDict):
    """The project's smoke test: its exit code (-1: stopped after the timeout), output's end."""

    code: int
    output: str


class _ProofReportBase(TypedDict):
    init: InitReport | None
    missing: list[str]
    check: str | None
    imports: list[ImportFailureReport]
    tried: dict[str, list[str]]
    broken: list[BrokenReport]


class ProofReport(_ProofReportBase, total=False):
    """What prove_install.py prints after `WHEELFERRY-PROOF `: what init.sh left missing, what a
    later start reinstalled, pip check's complaint, the shipped modules tried and those that
    failed, the platform's packages broken, files that do not compile, the smoke test; and what
    judging a failure needs: the environment's versions, which distribution provides which
    top-level module, the libraries the shipped wheels carry, the extras (requirement, extra)
    each failing distribution declares."""

    reinstalled: str
    imported: int
    environment: dict[str, str]
    providers: dict[str, str]
    libraries: dict[str, str]
    extras: dict[str, list[list[str]]]
    python: str
    syntax: dict[str, CompiledReport]
    smoke: SmokeReport


class _UpstreamInstalled(TypedDict):
    installed: bool


class UpstreamReport(_UpstreamInstalled, total=False):
    """One distribution in upstream_check.py's line (`WHEELFERRY-UPSTREAM ` then distribution
    -> this): installed as published and each module's error there (None: it imported), or not
    installed and the end of pip's output."""

    imports: dict[str, ImportErrorReport | None]
    output: str


class ProbeReport(TypedDict):
    """What probe.py prints after `WHEELFERRY-PROBE `: the interpreter's version,
    implementation, machine and supported wheel tags, most preferred first."""

    version: str
    implementation: str
    machine: str
    tags: list[str]


class PlatformFactsReport(TypedDict):
    """What probe.py --platform adds, in the platform's own image as its user: its C library,
    user and home, whether the user site is enabled and the Python externally managed, the
    distributions it has ([name, version]) and the sonames its loader finds."""

    libc: str
    libc_version: str
    uid: int
    gid: int
    home: str
    user_site_enabled: bool
    externally_managed: bool
    executable: str
    distributions: list[list[str]]
    libraries: list[str]


class PlatformProbeReport(ProbeReport, PlatformFactsReport):
    """probe.py --platform: the interpreter and the platform's facts."""


class _Done(TypedDict):
    ok: bool


class SystemPackagesReport(_Done, total=False):
    """What install_system_packages.py writes to /out/result.json: the package manager, and
    each package's exact version as installed ("name=version", then the grafting tools'
    "name==version"), or why it failed."""

    manager: str
    why: str
    installed: list[str]
