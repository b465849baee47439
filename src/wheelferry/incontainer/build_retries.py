"""Runs in the toolchain image, for build_wheels.py: an sdist that failed to build with today's
build tools, built again. What its build imports undeclared is found round after round (the
lock's versions, hash-checked); a module today's tools removed, or a failure with no missing
module, leads to the build tools of its release date (release_dates.py: the index's upload
times; never older than the target Python), keeping what it declares, what was found and what
the lock pins; what that retry misses is learned the same way; a build that fails against the
lock's major release of what it builds against is tried below it (numpy<2, reported for the host
to lock); C code an older Cython generated is generated again (stale_generated.py).

Stdlib only, besides `packaging` (in the toolchain's venv; pip vendors it otherwise).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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
        build_steps,
        index_client,
        messages,
        release_dates,
        stale_generated,
        system_needs,
    )
else:
    try:  # in the container, the scripts sit side by side
        import build_needs
        import build_steps
        import index_client
        import messages
        import release_dates
        import stale_generated
        import system_needs
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import (
            build_needs,
            build_steps,
            index_client,
            messages,
            release_dates,
            stale_generated,
            system_needs,
        )

Failed = build_steps.Failed
DatedTools = release_dates.DatedTools
PIP, BUILD_OUTPUT = build_steps.PIP, build_steps.BUILD_OUTPUT
run, say, attempt = build_steps.run, build_steps.say, build_steps.attempt
last_attempt, locked_version = build_steps.last_attempt, build_steps.locked_version


MAX_DISCOVERIES = 5


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
                result: messages.BuildReport, known: Sequence[str] = ()) -> None:
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
        result.update({"dated_build_requires": dated.pins, "dated_build_date": dated.date})
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
                       wanted: Sequence[str], result: messages.BuildReport) -> DatedTools | None:
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


def regenerated(sdist: Path, planned: DatedTools, work: Path, log: Path,
                env: Mapping[str, str]) -> Path:
    """What a retry with `planned` builds: the sdist, or its tree where the C code an older
    Cython than the planned one generated is generated again for this Python (by its setup
    script, or here with the planned Cython, importable through `env`)."""
    cython = next((release.version for release in planned.releases if release.name == "cython"),
                  None)
    if cython is None:
        return sdist

    def run_cython(cmd: list[str]) -> bool:
        try:
            run(cmd, log, dict(env), "generating its C code again")
        except Failed:
            return False
        return True

    source, found = stale_generated.regenerable_source(sdist, cython, work / "regenerated",
                                                       run_cython)
    if found:
        with log.open("a") as handle:
            handle.write(f"# wheelferry: what an older Cython generated is generated again with "
                         f"cython {cython}: {', '.join(found)}\n")
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
        planned = release_dates.dated_tools(
            name, sdist.name, dated_names,
            lambda project: index_client.project_files(project, env),
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
    source = regenerated(sdist, planned, work, log, dated_env)
    try:
        run([*PIP, "wheel", *BUILD_OUTPUT, "--no-deps", "--no-build-isolation", "-w",
             str(built), str(source)], log, dated_env, "building its wheel")
    except Failed as failure:
        raise Failed(f"building its wheel, with today's build tools and with those of its "
                     f"release date ({planned.when}: {pins})") from failure
    return DatedTools(planned.date, planned.releases,
                      tuple(line.split(" ", 1)[0] for line in sorted(set(kept))),
                      floor=planned.floor)
