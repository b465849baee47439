"""Fetching and building pins in the target's toolchain container: one container fetches every
pin in hash-checking mode and builds the sdists (several at once); the host then checks every
wheel against its pin and the target's tags, and every artifact against the lock's hashes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from wheelferry.building.outcome import BuildOutcome
from wheelferry.building.outcome import parse as parse_outcome
from wheelferry.core.diagnose import (
    Diagnosis,
    diagnose,
    missing_module,
    override_hint,
    system_need_advice,
)
from wheelferry.core.errors import BuildError
from wheelferry.core.files import read_json_object, sha256_file
from wheelferry.core.logtail import attempts_told_apart, log_tail
from wheelferry.core.report import Reporter
from wheelferry.engine import specs as containers
from wheelferry.engine.protocol import Engine
from wheelferry.incontainer import build_needs
from wheelferry.incontainer.system_needs import missing_system_part, own_file_missing
from wheelferry.project.options import Options
from wheelferry.project.overrides import BuildOverride
from wheelferry.project.requirements import Pin
from wheelferry.target.image import Target, compatible, tag_set


@dataclass(frozen=True)
class BuildJob:
    """A pin the container must fetch (and build, when only an sdist fits the target)."""

    pin: Pin
    build_key: str
    override: BuildOverride | None = None
    locked_build_requires: tuple[str, ...] = ()
    unlocked_build_requires: tuple[str, ...] = ()
    # OS packages its build container has (the project's and its override's).
    system_packages: tuple[str, ...] = ()
    # The override was found by an earlier build or lock (not configured): a starting point
    # the container may go beyond (the build tools of its day), not a stated environment.
    found: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.pin.name, "line": self.pin.line}
        if self.system_packages:
            # Built with OS packages: their libraries are carried in the wheel.
            data["graft"] = True
        if self.override is not None and self.override.states_build_environment:
            data["override"] = {
                "no_build_isolation": self.override.no_build_isolation,
                "locked": list(self.locked_build_requires),
                "unlocked": list(self.unlocked_build_requires),
            }
            if self.found:
                data["override"]["found"] = [str(r.name) for r in self.override.build_requires]
        return data


def check_wheel(file: str, pin: Pin, tags: frozenset[Tag]) -> None:
    # The name comes from the container: it must stay a plain file name in the wheelhouse.
    if Path(file).name != file or file.startswith(".") or "\\" in file:
        raise BuildError(f"{pin.name} produced a file named {file!r}, which is not a plain "
                         "wheel file name; it was not written.")
    try:
        name, version, _, _ = parse_wheel_filename(file)
    except InvalidWheelFilename as exc:
        raise BuildError(f"{pin.name} produced {file!r}, which is not a valid wheel file "
                         f"name ({exc}).") from exc
    if name != pin.name or version != pin.version:
        raise BuildError(f"{pin.name}=={pin.version} produced {file}, which is {name} {version}.",
                         hint="The sdist's metadata does not match its pin; report it upstream.")
    if not compatible(file, tags):
        raise BuildError(f"{file} (for {pin.name}=={pin.version}) is not compatible with the "
                         "target interpreter and platform.",
                         hint="Its tags match none of the target's; check the image.")


def fetch_and_build(engine: Engine, options: Options, target: Target,
                    builds: Sequence[BuildJob], work: Path, reporter: Reporter, *,
                    jobs: int = 0, locked: Sequence[Pin] = (), image: str | None = None,
                    platform_libraries: Sequence[str] | None = None
                    ) -> list[tuple[BuildJob, BuildOutcome, Path]]:
    """Fetch each pin hash-checked and build the sdists, in one toolchain container writing to
    `work`; every wheel is checked against its pin and the target's tags, and every artifact
    against the lock's hashes. (job, its result, the wheel file in work/wheels) per pin.
    `locked`: every pin of the project's locks; what a build is found to import is installed at
    the locked version, hash-checked. `image`: the build image (default: the toolchain).
    `platform_libraries`: the sonames the platform has (None: unknown); a wheel built from an
    sdist carries the libraries it links that the platform lacks."""
    tags = tag_set(target.tags)
    (work / "job.json").write_text(json.dumps(
        {"jobs": jobs, "pins": [j.to_json() for j in builds],
         "locked": {pin.name: pin.line for pin in locked},
         "platform_libraries": None if platform_libraries is None else list(platform_libraries)},
        indent=2))
    spec = containers.build_spec(options.target, options.index,
                                 toolchain=image or target.toolchain, out=work)
    result = engine.run(spec, on_line=reporter.output)
    report = read_json_object(work / "result.json").get("packages", [])
    if not isinstance(report, list):
        raise BuildError("the build container's report lists no packages.",
                         details=result.tail_text())
    results = {outcome.name: outcome for outcome in map(parse_outcome, report)}
    _raise_failures(builds, results, work, result.tail_text(), result.ok)
    fetched = []
    for build in builds:
        item = results[build.pin.name]
        check_wheel(item.file, build.pin, tags)
        source = work / "wheels" / item.file
        if source.is_symlink() or not source.is_file():
            raise BuildError(f"{build.pin.name} produced {item.file}, which is not a "
                             "regular file; it was not taken.")
        if item.origin == "downloaded" and not build.pin.allows(sha256_file(source)):
            raise BuildError(f"{item.file} does not match any hash in the lock for "
                             f"{build.pin.name}.")
        if item.sdist is not None and not build.pin.allows(item.sdist.sha256):
            raise BuildError(f"the sdist {item.sdist.file} does not match any hash in the "
                             f"lock for {build.pin.name}.")
        fetched.append((build, item, source))
    return fetched


def _raise_failures(builds: Sequence[BuildJob], results: Mapping[str, BuildOutcome],
                    work: Path, tail: str, container_ok: bool) -> None:
    failed = [job for job in builds
              if job.pin.name not in results or not results[job.pin.name].ok]
    if not failed:
        if not container_ok:
            raise BuildError("the build container failed.", details=tail)
        return
    first = failed[0]
    item = results.get(first.pin.name) or BuildOutcome(name=first.pin.name, ok=False)
    log_path = work / "logs" / f"{first.pin.name}.log"
    # Written by the container: read only a regular file, never what a link points at.
    readable = log_path.is_file() and not log_path.is_symlink()
    log = log_path.read_text(errors="replace") if readable else tail
    # Each attempt (today's tools, then with what was found, then the tools of its day) has its
    # own cause: the last one explains the failure, the earlier ones are shown before it.
    title, last, earlier = attempts_told_apart(log)
    step = item.step
    found = (diagnose(last, package=first.pin.name) if own_file_missing(last) else None) \
        or _failure_advice(first, item, last) \
        or diagnose(last, package=first.pin.name, tried_dated="release date" in title,
                    whole_log=log)
    others = ", ".join(f"{j.pin.name}=={j.pin.version}" for j in failed[1:])
    message = f"{first.pin.name}=={first.pin.version} failed while {step}"
    if found:
        message += f": {found.summary}"
    if others:
        message += f" (also failed: {others})"
    details = log_tail(last)
    if earlier:
        details = "\n".join([*earlier, f"attempt {len(earlier) + 1} ({title}), the end of its "
                              "log:", details])
    raise BuildError(
        message + ".",
        hint=(found.hint + "\n" if found else "")
        + "The previous wheelhouse is unchanged. The end of its log:",
        details=details,
    )


def _failure_advice(job: BuildJob, item: BuildOutcome, log: str) -> Diagnosis | None:
    """When the build still misses a module after what was found: one override with everything
    it needs at once (configured, found, and the module still missing); when it lacks an OS
    part, the OS packages it has and the one that brings it."""
    need = missing_system_part(log)
    if need is not None:
        return system_need_advice(job.pin.name, need, job.system_packages)
    module = item.missing_module
    if module is None and job.override is not None:
        # A configured build is not second-guessed: the advice extends the configuration.
        module = missing_module(log)
    if not isinstance(module, str):
        return None
    known = [str(r) for r in job.override.build_requires] if job.override else []
    known += [n for n in item.discovered if n not in known]
    hint = override_hint(job.pin.name, module, known=known,
                         distribution=item.unknown_distribution)
    what = ("which today's build tools removed" if build_needs.removed_module(module)
            else "which it does not declare")
    return Diagnosis(f"building {job.pin.name} needs the module '{module}', {what}", hint)
