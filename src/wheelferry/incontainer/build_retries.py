"""Runs in the toolchain image, for build_wheels.py: an sdist that failed to build with today's
build tools, built again. What its build imports undeclared is found round after round (the
lock's versions, hash-checked); a module today's tools removed, or a failure with no missing
module, leads to the build tools of its release date (dated_build.py), keeping what it
declares, what was found and what the lock pins; what that retry misses is learned the same way.

Stdlib only, besides `packaging` (in the toolchain's venv; pip vendors it otherwise).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

try:
    from packaging import requirements, utils
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import requirements, utils  # type: ignore[no-redef]

if TYPE_CHECKING:
    from wheelferry.incontainer import (
        build_needs,
        build_steps,
        dated_build,
        declared_requires,
        messages,
        system_needs,
    )
else:
    try:  # in the container, the scripts sit side by side
        import build_needs
        import build_steps
        import dated_build
        import declared_requires
        import messages
        import system_needs
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import (
            build_needs,
            build_steps,
            dated_build,
            declared_requires,
            messages,
            system_needs,
        )

Failed = build_steps.Failed
PIP, BUILD_OUTPUT = build_steps.PIP, build_steps.BUILD_OUTPUT
run, say, attempt = build_steps.run, build_steps.say, build_steps.attempt
last_attempt, locked_version = build_steps.last_attempt, build_steps.locked_version
build_with_dated_tools = dated_build.build_with_dated_tools
build_before_major = dated_build.build_before_major


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
    declared = [*declared_requires.declared_build_requires(sdist), *known]
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
