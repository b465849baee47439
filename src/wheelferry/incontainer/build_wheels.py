"""Runs in the toolchain image: fetch every planned pin in hash-checking mode and build the
sdists into wheels for this interpreter (the target's), several at a time (pip builds one at a
time: pip #8708).

Input /out/job.json; output: wheels in /out/wheels, a log per package in /out/logs, and
/out/result.json describing each package (downloaded wheel, or wheel built from which sdist).

An sdist that fails to build (in isolation, with its build requirements at their newest) is
retried: with what its build imports undeclared (found round after round, the lock's versions),
else with the build tools of its release date (planned by release_dates.py from the index's
JSON simple API and upload times, PEP 691/700), installed hash-checked. What was found and the
versions used are reported ("discovered", "dated_build_requires").

Stdlib only, besides `packaging` (in the toolchain's venv; pip vendors it otherwise) and a TOML
parser (tomllib, else tomli or pip's vendored copy) for an sdist's pyproject.toml.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    from packaging import requirements, tags, utils, version
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import (  # type: ignore[no-redef]
        requirements,
        tags,
        utils,
        version,
    )

if TYPE_CHECKING:
    from wheelferry.incontainer import (
        build_needs,
        fetch_pins,
        graft_libraries,
        published_files,
        release_dates,
        stale_generated,
        system_needs,
    )
else:
    try:  # in the container, the scripts sit side by side
        import build_needs
        import fetch_pins
        import graft_libraries
        import published_files
        import release_dates
        import stale_generated
        import system_needs
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import (
            build_needs,
            fetch_pins,
            graft_libraries,
            published_files,
            release_dates,
            stale_generated,
            system_needs,
        )

OUT = Path("/out")
SCRATCH = Path("/tmp/wheelferry-build")
PIP = [sys.executable, "-m", "pip"]
# pip shows a build's own output only when it fails, unless verbose: the log keeps it always
# (a build that succeeds may have left out an optional compiled part, and says so there).
BUILD_OUTPUT = ["--verbose"]
SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")
LEGACY_BUILD_REQUIRES = build_needs.LEGACY_BUILD_REQUIRES
# Progress for the host (wheelferry.report): a line that starts with NOTE only tells progress;
# a result line ends with "[done/total]".
NOTE = "... "
# How often a download in progress tells its size, from this size up.
DOWNLOAD_REPORT_SECONDS = 2.0
BIG_DOWNLOAD = 1 << 20


# Like wheelferry.files.sha256_file: scripts in the container cannot import wheelferry.
sha256 = fetch_pins.sha256


class Failed(Exception):
    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


def run(cmd: list[str], log: Path, env: dict[str, str], step: str) -> None:
    with log.open("a") as handle:
        handle.write(f"$ {shlex.join(cmd)}\n")
        handle.flush()
        code = subprocess.call(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env,
                               cwd=SCRATCH)
    if code != 0:
        raise Failed(step)


def build_requires(pin: dict[str, Any], work: Path, log: Path, env: dict[str, str]) -> list[str]:
    """Install an override's build requirements where the build can import them. Those the lock
    pins are installed at the locked version, hash-checked: compiled code then matches the
    runtime shipped beside it. Returns what was installed, as name==version."""
    target = work / "build-requires"
    locked = pin["override"]["locked"]
    free = pin["override"]["unlocked"]
    if locked:
        requirement_file = work / "build-requires-locked.txt"
        requirement_file.write_text("\n".join(locked) + "\n")
        run([*PIP, "install", "--quiet", "--no-deps", "--require-hashes", "--target", str(target),
             "-r", str(requirement_file)], log, env, "installing its locked build requirements")
    if free:
        run([*PIP, "install", "--quiet", "--target", str(target), "--upgrade", *free], log, env,
            "installing its build requirements")
    installed = []
    for info in sorted(target.glob("*.dist-info")):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        installed.append(f"{name}=={version}")
    return installed


def fetch(cmd: list[str], download: Path, log: Path, env: dict[str, str]) -> None:
    """Download one pin. pip prepares an sdist's metadata even to download it; try that first
    with the toolchain's own setuptools (no isolated environment to set up, so an sdist is not
    set up twice), and fall back to isolation for sdists that need another build backend."""
    quick_log = log.with_suffix(".quick.log")
    try:
        run([*cmd, "--no-build-isolation"], quick_log, env, "downloading it")
        with log.open("a") as handle:
            handle.write(quick_log.read_text())
        return
    except Failed:
        shutil.rmtree(download, ignore_errors=True)
        download.mkdir(parents=True)
    finally:
        quick_log.unlink(missing_ok=True)
    run(cmd, log, env, "downloading it")


_SAYING = threading.Lock()


def say(line: str) -> None:
    """One whole line on stdout: several threads print, and print() writes a line and its end
    separately, so two lines could merge and the host would miss one."""
    with _SAYING:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def note(text: str) -> None:
    say(f"{NOTE}{text}")


def report_downloads(stopped: threading.Event) -> None:
    """Tell the size of each big download while pip fetches it: pip downloads into a
    pip-unpack-* folder in the temporary directory, named as the file is (pip prints no progress
    without a terminal)."""
    shown: dict[str, int] = {}
    while not stopped.wait(DOWNLOAD_REPORT_SECONDS):
        for partial in Path(tempfile.gettempdir()).glob("pip-unpack-*/*"):
            try:
                size = partial.stat().st_size
            except OSError:
                continue  # done and moved meanwhile
            if size >= BIG_DOWNLOAD and shown.get(partial.name) != size:
                shown[partial.name] = size
                note(f"downloading {partial.name}: {size / (1 << 20):.1f} MiB so far")


def download_listed_sdist(name: str, line: str, download: Path, log: Path,
                          env: Mapping[str, str]) -> bool:
    """After pip failed to download a pin: pip prepares an sdist's metadata even to download it,
    which an old sdist fails with today's build tools. Download the sdist itself from the
    index's JSON listing instead, checked against the lock's hashes; whether that was done."""
    hashes = set(re.findall(r"--hash=sha256:([0-9a-fA-F]{64})", line))
    try:
        files = project_files(name, env) or []
        listed = [file for file in files if str(file.get("filename", "")).endswith(SDIST_SUFFIXES)
                  and _sha256(file) in hashes]
        if not listed:
            return False
        shutil.rmtree(download, ignore_errors=True)
        fetched = download_file(listed[0], download, env)
    except Exception as exc:  # the original failure stands
        with log.open("a") as handle:
            handle.write(f"# wheelferry: could not download the sdist itself either "
                         f"({type(exc).__name__}: {exc})\n")
        return False
    with log.open("a") as handle:
        handle.write(f"# wheelferry: pip could not prepare its metadata; downloaded {fetched.name} "
                     f"from the index's listing instead (sha256 as the lock has it)\n")
    return True




# Read from the sdist itself (build_needs.py): kept under these names for compile_locks.py.
toml_loads = build_needs.toml_loads
sdist_member = build_needs.sdist_member
sdist_build_requires = build_needs.sdist_build_requires
# The index client and the tools of an sdist's day (release_dates.py): kept under these names
# for compile_locks.py and the unit tests.
Release = release_dates.Release
DatedTools = release_dates.DatedTools
choose_release = release_dates.choose_release
dated_tools = release_dates.dated_tools
download_file = release_dates.download_file
index_urls = release_dates.index_urls
parse_upload_time = release_dates.parse_upload_time
project_files = release_dates.project_files
_sha256 = release_dates._sha256


MAX_DISCOVERIES = 5


def attempt(log: Path, title: str) -> None:
    """Start a new attempt in the package's log: the host tells each attempt's failure apart."""
    with log.open("a") as handle:
        handle.write(f"{build_needs.ATTEMPT}{title}\n")


def last_attempt(log: Path) -> str:
    return build_needs.attempts(log.read_text(errors="replace"))[-1][1]


def locked_version(line: str) -> str:
    """The version a lock line pins (`name==1.0 --hash=...`)."""
    requirement = requirements.Requirement(line.split(" --hash", 1)[0].split(" \\", 1)[0])
    return next(spec.version for spec in requirement.specifier if spec.operator == "==")


def compiled_modules(wheel: Path) -> list[str]:
    """The compiled files a wheel holds."""
    with zipfile.ZipFile(wheel) as archive:
        return [name for name in archive.namelist() if name.endswith((".so", ".pyd"))]


def install_build_tools(requires: Sequence[str], locked: Mapping[str, str], target: Path,
                        log: Path, env: dict[str, str]) -> list[str]:
    """Install `requires` where a build without isolation imports them: those the lock pins at
    exactly the locked version, hash-checked (compiled code then matches what ships beside it),
    the rest at their newest fitting the lock. PYTHONPATH in `env` is set to them; returns what
    was installed, as name==version."""
    pinned: list[str] = []
    free: list[str] = []
    for text in requires:
        requirement = requirements.Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        line = locked.get(utils.canonicalize_name(requirement.name))
        if line is not None and requirement.specifier.contains(locked_version(line),
                                                               prereleases=True):
            pinned.append(line)
        else:
            free.append(text)
    shutil.rmtree(target, ignore_errors=True)
    folders = []
    if pinned:
        folders.append(target / "locked")
        (target / "locked.txt").parent.mkdir(parents=True, exist_ok=True)
        (target / "locked.txt").write_text("".join(f"{line}\n" for line in sorted(set(pinned))))
        run([*PIP, "install", "--quiet", "--no-deps", "--require-hashes", "--target",
             str(folders[-1]), "-r", str(target / "locked.txt")], log, env,
            "installing the locked versions of what its build imports")
    if free:
        folders.append(target / "free")
        constraints = target / "constraints.txt"
        constraints.parent.mkdir(parents=True, exist_ok=True)
        constraints.write_text("".join(f"{name}=={locked_version(line)}\n"
                                       for name, line in sorted(locked.items())))
        run([*PIP, "install", "--quiet", "--target", str(folders[-1]), "-c", str(constraints),
             *free], log, env, "installing what its build imports")
    env["PYTHONPATH"] = os.pathsep.join(str(folder) for folder in folders)
    installed = []
    for folder in folders:
        for info in sorted(folder.glob("*.dist-info")):
            name, _, found = info.name[: -len(".dist-info")].partition("-")
            installed.append(f"{name}=={found}")
    return sorted(set(installed))


def retry_build(name: str, sdist: Path, work: Path, built: Path, log: Path,
                env: Mapping[str, str], locked: Mapping[str, str],
                result: dict[str, Any], known: Sequence[str] = ()) -> None:
    """After the isolated build with today's tools failed: learn what it needs and build again.
    A missing module that a distribution provides is installed (at the lock's version where the
    lock has one) and the build retried without isolation, round after round until it builds or
    nothing new is learned; a module that today's build tools removed (pkg_resources,
    numpy.distutils, ...), or a failure with no missing module, leads to the build tools of its
    release date, keeping what it declares, what was found and what the lock pins; what that
    retry finds missing is learned the same way and the dated retry made again. `result`
    records what was found (also when it still fails); raises Failed when it does not build.
    `known`: what an earlier build or lock found it to import, kept in every retry."""
    declared = [*build_needs.declared_build_requires(sdist), *known]
    needs: list[str] = result.setdefault("discovered", [])
    dated_mode = False  # once today's tools gave up: every retry is with those of its day
    while True:
        own = system_needs.own_file_missing(last_attempt(log))
        if own is not None:
            raise Failed(f"building its wheel (its sdist lacks its own file {own})")
        lacking = system_needs.missing_system_part(last_attempt(log))
        if lacking is not None:
            # No Python build tool brings a C library: no retry with other ones.
            raise Failed(f"building its wheel (it needs {lacking.describe()} from the "
                         "operating system)")
        modules = build_needs.missing_modules(last_attempt(log))
        module = modules[-1] if modules else None
        if module is not None:
            result["missing_module"] = module
        else:  # what an earlier attempt missed was given: this one failed otherwise
            result.pop("missing_module", None)
        removed = module is not None and build_needs.removed_module(module)
        if not dated_mode and module is not None and not removed:
            learn(name, module, needs)
            say(f"==> {name}: its build imports {module!r} without declaring it; retrying "
                f"with {', '.join(needs)} importable and no build isolation")
            retry_env = dict(env)
            try:
                result["build_requires"] = install_build_tools(
                    [*declared, *needs], locked, work / f"discovered-{len(needs)}", log,
                    retry_env)
            except Failed as failure:
                distribution = needs.pop()
                result["unknown_distribution"] = distribution
                raise Failed(f"building its wheel (no distribution named {distribution!r} "
                             f"provides the module it imports, {module!r})") from failure
            attempt(log, f"with {', '.join(needs)} importable, without build isolation")
            shutil.rmtree(built, ignore_errors=True)
            built.mkdir(parents=True)
            try:
                run([*PIP, "wheel", *BUILD_OUTPUT, "--no-deps", "--no-build-isolation", "-w",
                     str(built), str(sdist)], log, retry_env, "building its wheel")
            except Failed:
                continue
            result.pop("missing_module", None)
            return
        if dated_mode and module is not None and not removed:
            learn(name, module, needs)
            result.pop("missing_module", None)  # given to the retry below
            why: str | None = f"its build imports {module!r} without declaring it"
        else:
            why = None if module is None else (
                f"its build imports {module!r}, which today's build tools no longer have")
        wanted = [*declared, *needs]
        had_it = None if module is None else build_needs.removed_from(module)
        if had_it and had_it not in {build_needs.requirement_name(text) for text in wanted}:
            wanted.append(had_it)  # numpy.distutils: a numpy that still has it
        try:
            dated = build_with_dated_tools(name, sdist, work, built, log, dict(env), locked,
                                           wanted, why)
        except Failed:
            if learnable(name, last_attempt(log), needs):
                dated_mode = True
                continue
            dated = build_before_major(name, sdist, work, built, log, env, locked, wanted,
                                       result)
            if dated is None:
                raise
        if dated is None:
            raise Failed("building its wheel" if module is None else
                         f"building its wheel (it imports {module!r}, which today's build "
                         "tools removed, and the build tools of its release date could "
                         "not be used: see the log)")
        result.update(dated_build_requires=dated.pins, dated_build_date=dated.date)
        result.pop("missing_module", None)
        return


def learnable(name: str, text: str, needs: Sequence[str]) -> bool:
    """Whether an attempt's log names a missing module that a retry could bring: one no build
    tool removed, of a distribution not already tried."""
    modules = build_needs.missing_modules(text)
    if not modules or build_needs.removed_module(modules[-1]):
        return False
    distribution = build_needs.distribution_of(modules[-1])
    return distribution not in needs and distribution != utils.canonicalize_name(name) \
        and len(needs) < MAX_DISCOVERIES


def learn(name: str, module: str, needs: list[str]) -> None:
    """Add the distribution that provides `module` to `needs`; raises Failed when that teaches
    nothing new (already tried, the package itself, or too many rounds)."""
    distribution = build_needs.distribution_of(module)
    if distribution in needs or distribution == utils.canonicalize_name(name) \
            or len(needs) >= MAX_DISCOVERIES:
        raise Failed(f"building its wheel (it imports {module!r} even with "
                     f"{', '.join(needs)} importable)")
    needs.append(distribution)


def split_locked(wanted: Sequence[str], locked: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Build requirements for a retry with the build tools of an sdist's day: (the lock lines of
    those taken at the locked version, the requirements to date). What the lock pins is taken
    at its version (numpy, scipy: compiled against and shipped beside), but build tools are of
    the sdist's day even where the lock pins them (its Cython 3 may be what broke the build)."""
    kept: list[str] = []
    dated: list[str] = []
    for text in wanted:
        requirement = requirements.Requirement(text)
        own = utils.canonicalize_name(requirement.name)
        name = build_needs.LOCKED_AS.get(own, own)
        line = locked.get(name)
        if name in build_needs.BUILD_TOOLS or line is None:
            dated.append(text)
        elif name != own or requirement.specifier.contains(locked_version(line),
                                                            prereleases=True):
            kept.append(line)
        else:
            dated.append(text)
    return kept, dated


def build_before_major(name: str, sdist: Path, work: Path, built: Path, log: Path,
                       env: Mapping[str, str], locked: Mapping[str, str],
                       wanted: Sequence[str], result: dict[str, Any]) -> DatedTools | None:
    """After the retry with the build tools of its day failed against what the lock pins (old
    compiled code does not build against numpy 2): build it once more against the newest
    release below the locked major (numpy<2) of what it builds against, with the other tools
    of its day. Its wheel then needs the lock below that major: recorded in
    `result["requires_bound"]` (the host locks again with it). None when there is nothing to
    try."""
    names = {build_needs.requirement_name(text) for text in wanted}
    bounds = {}
    for dist in sorted(names):
        if dist in locked and dist not in build_needs.BUILD_TOOLS:
            major = version.Version(locked_version(locked[dist])).major
            if major > 0:
                bounds[dist] = f"{dist}<{major}"
    if not bounds:
        return None
    say(f"==> {name}: did not build against the lock's "
        f"{', '.join(f'{dist} {locked_version(locked[dist])}' for dist in bounds)}; retrying "
        f"with {', '.join(bounds.values())}")
    below = [text for text in wanted if build_needs.requirement_name(text) not in bounds]
    dated = build_with_dated_tools(name, sdist, work, built, log, dict(env), locked,
                                   [*below, *bounds.values()], dated_also=list(bounds))
    if dated is None:
        return None
    result["requires_bound"] = sorted(bounds.values())
    return dated


def regenerated(sdist: Path, planned: DatedTools, work: Path, log: Path) -> Path:
    """What a retry with `planned` builds: the sdist, or its tree without the C code an older
    Cython than the planned one generated (so that one generates it again for this Python)."""
    cython = next((release.version for release in planned.releases if release.name == "cython"),
                  None)
    if cython is None:
        return sdist
    source, removed = stale_generated.regenerable_source(sdist, cython, work / "regenerated")
    if removed:
        with log.open("a") as handle:
            handle.write(f"# wheelferry: removed what an older Cython generated, for cython "
                         f"{cython} to generate it again: {', '.join(removed)}\n")
    return source


def build_with_dated_tools(name: str, sdist: Path, work: Path, built: Path, log: Path,
                           env: dict[str, str], locked: Mapping[str, str] | None = None,
                           requires: Sequence[str] | None = None,
                           why: str | None = None,
                           dated_also: Sequence[str] = ()) -> DatedTools | None:
    """After a failed build of `sdist` with today's build tools: build it once more with those
    of its release date (hash-checked, without isolation): each of `requires` (default: what it
    declares) capped at its newest release uploaded before the sdist, except those the lock
    pins (`locked`), taken at the locked version, and those named in `dated_also`, at their
    newest release that fits (their requirement bounds them). None when there are none to try
    (the reason is in the log); raises Failed when the retry fails too."""
    locked = {key: line for key, line in (locked or {}).items() if key not in dated_also}
    wanted = list(requires) if requires is not None else \
        build_needs.declared_build_requires(sdist)
    if "cython" not in {build_needs.requirement_name(text) for text in wanted} \
            and stale_generated.generated_from_pyx(sdist):
        wanted.append("cython")  # to generate its C again: see regenerated() below
    kept, dated_names = split_locked(wanted, locked)
    try:
        supported = frozenset(tags.sys_tags())
        python_version = ".".join(str(part) for part in sys.version_info[:3])
        planned = dated_tools(
            name, sdist.name, dated_names,
            lambda project: project_files(project, env),
            supported=supported, python_version=python_version, undated=dated_also)
    except Exception as exc:  # the original failure stands; say why there was no retry
        planned = f"the index could not tell upload times ({type(exc).__name__}: {exc})"
    if isinstance(planned, str):
        with log.open("a") as handle:
            handle.write(f"# wheelferry: not retried with the build tools of its release date: "
                         f"{planned}\n")
        return None
    pins = ", ".join([*planned.pins, *(line.split(" ", 1)[0] for line in sorted(kept))])
    announce = (f"==> {name}: failed with today's build tools"
                + (f" ({why})" if why else "")
                + f"; retrying with those of its release date ({planned.when}): {pins}")
    say(announce)
    with log.open("a") as handle:
        handle.write(announce + "\n")
    target = work / "dated-build-requires"
    shutil.rmtree(target, ignore_errors=True)
    requirement_file = work / "dated-build-requires.txt"
    requirement_file.write_text("".join(f"{r.line}\n" for r in planned.releases)
                                + "".join(f"{line}\n" for line in sorted(set(kept))))
    attempt(log, f"with the build tools of its release date ({planned.when}: {pins}), "
                 "without build isolation")
    try:
        run([*PIP, "install", "--quiet", "--no-deps", "--require-hashes", "--target",
             str(target), "-r", str(requirement_file)], log, env, "installing them")
    except Failed as failure:
        raise Failed(f"building its wheel (and then {failure.step}: the build tools of its "
                     f"release date, {planned.when}: {pins})") from failure
    shutil.rmtree(built, ignore_errors=True)
    built.mkdir(parents=True)
    dated_env = dict(env)
    dated_env["PYTHONPATH"] = str(target)
    source = regenerated(sdist, planned, work, log)
    try:
        run([*PIP, "wheel", *BUILD_OUTPUT, "--no-deps", "--no-build-isolation", "-w",
             str(built), str(source)], log, dated_env, "building its wheel")
    except Failed as failure:
        raise Failed(f"building its wheel, with today's build tools and with those of its "
                     f"release date ({planned.when}: {pins})") from failure
    return DatedTools(planned.date, planned.releases,
                      tuple(line.split(" ", 1)[0] for line in sorted(set(kept))),
                      floor=planned.floor)


def process(pin: dict[str, Any], base_env: dict[str, str],
            fetched: Path | None = None, locked: Mapping[str, str] | None = None,
            platform_libraries: Sequence[str] | None = None) -> dict[str, Any]:
    """Fetch (unless `fetched` already holds its file) and build one pin; a wheel built from its
    sdist carries the libraries it links that the platform (`platform_libraries`, its sonames;
    None: unknown) lacks, and is compared with the release's published wheels."""
    name = pin["name"]
    work = SCRATCH / name
    download = work / "download"
    built = work / "built"
    for folder in (download, built):
        folder.mkdir(parents=True, exist_ok=True)
    log = OUT / "logs" / f"{name}.log"
    env = dict(base_env)
    result: dict[str, Any] = {"name": name, "ok": False, "build_requires": []}
    started = time.monotonic()
    try:
        override = pin.get("override")
        isolation: list[str] = []
        if override:
            result["build_requires"] = build_requires(pin, work, log, env)
            env["PYTHONPATH"] = str(work / "build-requires")
            if override["no_build_isolation"]:
                isolation = ["--no-build-isolation"]
        requirement_file = work / "pin.txt"
        requirement_file.write_text(pin["line"] + "\n")
        download_cmd = [*PIP, "download", "--no-deps", "--require-hashes", "-r",
                        str(requirement_file), "-d", str(download)]
        if fetched is None:
            note(f"{name}: fetching it")
        if fetched is not None:
            shutil.move(str(fetched), download / fetched.name)
            with log.open("a") as handle:
                handle.write(f"# wheelferry: {fetched.name} was fetched with other pins in one "
                             "pip process, hash-checked against the lock\n")
        elif override:
            try:
                run([*download_cmd, *isolation], log, env, "downloading it")
            except Failed:
                # What was found for it may not prepare its metadata (today's setuptools); the
                # sdist itself then comes from the listing, as for any pin.
                if "found" not in override or not download_listed_sdist(
                        name, pin["line"], download, log, env):
                    raise
        else:
            try:
                fetch(download_cmd, download, log, env)
            except Failed:
                if not download_listed_sdist(name, pin["line"], download, log, env):
                    raise
        files = sorted(download.iterdir())
        if len(files) != 1:
            raise Failed(f"downloading it (expected one file, got {[f.name for f in files]})")
        artifact = files[0]
        if artifact.name.endswith(".whl"):
            final = OUT / "wheels" / artifact.name
            shutil.move(str(artifact), final)
            result.update(ok=True, origin="downloaded", file=final.name)
            return result
        if not artifact.name.endswith(SDIST_SUFFIXES):
            raise Failed(f"downloading it (unexpected file {artifact.name})")
        result["sdist"] = {"file": artifact.name, "sha256": sha256(artifact)}
        note(f"{name}: building its wheel from {artifact.name}")
        attempt(log, "with today's build tools, in isolation" if not override else
                "with what earlier builds found it imports" if "found" in override else
                "with its configured build requirements")
        try:
            run([*PIP, "wheel", *BUILD_OUTPUT, "--no-deps", *isolation, "-w", str(built),
                 str(artifact)], log, env, "building its wheel")
        except Failed:
            # A configured override states the build environment: it is not second-guessed.
            # One found earlier is where the retry starts from.
            if override and "found" not in override:
                raise
            retry_build(name, artifact, work, built, log, env, locked or {}, result,
                        known=override["found"] if override else ())
        wheels = sorted(built.glob("*.whl"))
        if len(wheels) != 1:
            raise Failed("building its wheel (no single wheel came out)")
        lacking = system_needs.missing_system_part(last_attempt(log))
        unbuilt = published_files.missing_compiled(name, wheels[0], env, log)
        if unbuilt or (lacking is not None and not compiled_modules(wheels[0])):
            # It built all the same, without compiled modules its published wheels have, or with
            # nothing compiled while it lacked an OS part: a compiled part was left out. (A wheel
            # with compiled modules may have probed for optional headers on purpose.)
            result["left_out"] = {"kind": lacking.kind if lacking else "", "modules": unbuilt,
                                  "name": lacking.name if lacking else "",
                                  "package": lacking.package if lacking else ""}
        graft_env = dict(env, PATH=os.pathsep.join(
            [str(Path(sys.executable).parent), env.get("PATH", "")]))
        try:
            carried = graft_libraries.carry(wheels[0], work / "repaired", log, graft_env,
                                            platform_has=platform_libraries,
                                            always=bool(pin.get("graft")))
        except RuntimeError as exc:
            raise Failed(f"carrying its shared libraries into the wheel ({exc})") from exc
        if carried is not None:
            wheels, result["carried"] = [carried[0]], carried[1]
        final = OUT / "wheels" / wheels[0].name
        shutil.move(str(wheels[0]), final)
        result.update(ok=True, origin="built", file=final.name)
        hidden = build_needs.hidden_requires(final)
        if hidden:
            result["hidden_requires"] = hidden
        if locked:
            # The resolver read the sdist's metadata; the built wheel may say more.
            gaps = build_needs.unlocked_requires(
                final, {name: locked_version(line) for name, line in locked.items()})
            if gaps:
                result["unlocked_requires"] = gaps
    except Failed as failure:
        result["step"] = failure.step
    except Exception as exc:
        with log.open("a") as handle:
            handle.write(traceback.format_exc())
        result["step"] = f"processing it ({type(exc).__name__}: {exc})"
    finally:
        result["seconds"] = round(time.monotonic() - started, 1)
    return result


def main() -> int:
    job = json.loads((OUT / "job.json").read_text())
    (OUT / "wheels").mkdir(exist_ok=True)
    (OUT / "logs").mkdir(exist_ok=True)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    jobs = job.get("jobs") or os.cpu_count() or 1
    results = []
    total = len(job["pins"])
    note(f"{total} package(s) to fetch, sdists to build, {jobs} at a time [0/{total}]")
    stopped = threading.Event()
    downloads = threading.Thread(target=report_downloads, args=(stopped,), daemon=True)
    downloads.start()
    # Pins with no override are fetched in a few pip processes first; the rest, and the pins
    # of a batch that failed, one by one.
    plain = [pin for pin in job["pins"] if not pin.get("override")]
    if plain:
        note(f"fetching {len(plain)} pin(s) in a few pip processes")
    prefetched = fetch_pins.prefetch(plain, jobs, SCRATCH / "_prefetch", env)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        locked = {str(k): str(v) for k, v in job.get("locked", {}).items()}
        futures = [pool.submit(process, pin, env, prefetched.get(pin["name"]), locked,
                               job.get("platform_libraries")) for pin in job["pins"]]
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            state = result.get("origin", "FAILED") if result["ok"] else "FAILED"
            detail = result.get("file", result.get("step", ""))
            if result["ok"] and result.get("dated_build_date"):
                detail += f", with the build tools of {result['dated_build_date']}"
            say(f"==> {result['name']}: {state} {detail} ({result['seconds']} s) "
                f"[{len(results)}/{total}]")
    stopped.set()
    (OUT / "result.json").write_text(json.dumps({"packages": results}, indent=2))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
