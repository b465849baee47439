"""Runs in the toolchain image, for build_retries.py: an sdist built once more with the build
tools of its release date (release_dates.py: each build requirement capped at its newest release
uploaded before the sdist, from the index's upload times; never older than the target Python),
hash-checked and without isolation, keeping what the lock pins; C code an older Cython generated
is generated again (stale_generated.py); and, when that fails against the lock's major release of
what it builds against, once more below it (numpy<2, reported for the host to lock).

Stdlib only, besides `packaging` (in the toolchain's venv; pip vendors it otherwise).
"""

from __future__ import annotations

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
        declared_requires,
        index_client,
        messages,
        release_dates,
        stale_generated,
    )
else:
    try:  # in the container, the scripts sit side by side
        import build_needs
        import build_steps
        import declared_requires
        import index_client
        import messages
        import release_dates
        import stale_generated
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import (
            build_needs,
            build_steps,
            declared_requires,
            index_client,
            messages,
            release_dates,
            stale_generated,
        )

Failed = build_steps.Failed
DatedTools = release_dates.DatedTools
PIP, BUILD_OUTPUT = build_steps.PIP, build_steps.BUILD_OUTPUT
run, say, attempt = build_steps.run, build_steps.say, build_steps.attempt
locked_version = build_steps.locked_version


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
        declared_requires.declared_build_requires(sdist)
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
