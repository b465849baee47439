"""OS packages for builds (`system-packages`): the toolchain image with the packages installed
by the image's own package manager, committed once per toolchain image and package set and
reused; the exact versions installed are kept in the image's labels, for the manifest."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wheelferry.core.errors import BuildError
from wheelferry.core.files import read_json_object
from wheelferry.engine import toolchainspecs
from wheelferry.engine.client import Engine
from wheelferry.project import layout as project
from wheelferry.project.options import Options

REPOSITORY = "wheelferry-build-system"
VERSIONS_LABEL = "io.wheelferry.system-packages"


@dataclass(frozen=True)
class SystemImage:
    """A build image with OS packages: its reference, and what was installed ("name=version")."""

    reference: str
    installed: tuple[str, ...]


@dataclass(frozen=True)
class Installed:
    """What the OS packages container reported (incontainer/messages.py: SystemPackagesReport):
    whether it installed them, why not, and what it installed ("name=version")."""

    ok: bool = False
    why: str = ""
    installed: tuple[str, ...] = ()


def read_outcome(path: Path) -> Installed:
    """The container's result.json, parsed once: none (the container failed before writing it)
    is not ok; BuildError on a value of the wrong kind."""
    data = read_json_object(path)
    ok, why, installed = data.get("ok", False), data.get("why") or "", data.get("installed", [])
    if not isinstance(ok, bool) or not isinstance(why, str) or not isinstance(installed, list) \
            or not all(isinstance(version, str) for version in installed):
        raise BuildError("the OS packages container's report is malformed; the previous "
                         "wheelhouse is unchanged.",
                         hint="Run again; if it repeats, report it with the build's output (-v).")
    return Installed(ok=ok, why=why, installed=tuple(installed))


def reference_for(toolchain_id: str, packages: tuple[str, ...]) -> str:
    key = json.dumps([toolchain_id, sorted(packages)])
    return f"{REPOSITORY}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def ensure(engine: Engine, options: Options, *, toolchain: str, packages: tuple[str, ...],
           log: Callable[[str], None], on_line: Callable[[str], None] | None = None
           ) -> SystemImage:
    """The toolchain image with `packages` installed (made once, then reused)."""
    base = engine.image(toolchain)
    if base is None:  # pragma: no cover - the toolchain was just made
        raise BuildError(f"the toolchain image {toolchain} is missing.")
    reference = reference_for(base.id, packages)
    installed = engine.labels(reference).get(VERSIONS_LABEL)
    if installed is not None:
        return SystemImage(reference, tuple(v for v in installed.split(",") if v))
    log(f"installing the OS packages {', '.join(packages)} into a build image {reference} "
        "(once per toolchain and package set)")
    out = project.state_dir(options) / f"system-{uuid.uuid4().hex[:12]}"
    out.mkdir(parents=True)
    try:
        spec = toolchainspecs.system_packages_spec(options.target, options.index, image=base.id,
                                                   packages=packages, out=out)
        repository, tag = reference.split(":")

        def commit(container: object) -> None:
            outcome = read_outcome(out / "result.json")
            if outcome.ok:
                engine.commit(container, repository=repository, tag=tag, labels={
                    "io.wheelferry.base": base.id,
                    # name=version,... (a LABEL value with no spaces or quotes to escape)
                    VERSIONS_LABEL: ",".join(outcome.installed)})

        result = engine.run(spec, on_line=on_line, keep=commit)
        outcome = read_outcome(out / "result.json")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if not result.ok or not outcome.ok:
        why = outcome.why or f"the container failed (exit code {result.exit_code})"
        raise BuildError(
            f"installing the OS packages {', '.join(packages)} for the build failed: {why}.",
            hint="Check the names in system-packages (as the build image's package manager "
            "names them: apt's for Debian-based images such as python:3.10) and that its "
            "package repositories are reachable from containers. The previous wheelhouse is "
            "unchanged.",
            details=result.tail_text())
    return SystemImage(reference, outcome.installed)
