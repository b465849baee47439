"""The target: the configured image, checked to hold the configured Python, and its toolchain.

The toolchain image is the target image plus a virtual environment at /opt/wheelferry with
pip-tools, committed once per (image, pip-tools, pip) so later runs start at once. The target's own
interpreter is untouched: builds and the offline proof use the same CPython.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections.abc import Callable
from dataclasses import dataclass

from wheelferry import containers
from wheelferry.config import Options
from wheelferry.engine import ContainerSpec, Engine, ImageInfo, Mount
from wheelferry.errors import ImageError

TOOLCHAIN_REPOSITORY = "wheelferry-toolchain"
TOOLCHAIN_RECIPE = "2"
PROBE_MARKER = "WHEELFERRY-PROBE "


@dataclass(frozen=True)
class Target:
    """The target interpreter as found in its image."""

    python: str
    version: str
    image: ImageInfo
    toolchain: str
    tags: tuple[str, ...]


def toolchain_versions() -> dict[str, str]:
    """pip-tools and pip pinned to the versions installed beside wheelferry on the host."""
    return {name: importlib.metadata.version(name) for name in ("pip-tools", "pip")}


def toolchain_reference(base: ImageInfo) -> str:
    versions = toolchain_versions()
    key = json.dumps([TOOLCHAIN_RECIPE, base.id, versions], sort_keys=True)
    return f"{TOOLCHAIN_REPOSITORY}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def probe(engine: Engine, options: Options, base: ImageInfo) -> tuple[str, tuple[str, ...]]:
    """(python version, supported tags) of the image's python3; ImageError when it is not the
    configured Python or has none."""
    spec = ContainerSpec(
        image=base.id,
        command=("python3", f"{containers.SCRIPTS_MOUNT}/probe.py"),
        purpose="probe",
        mounts=(Mount(containers.SCRIPTS_DIR, containers.SCRIPTS_MOUNT),),
        environment=containers.pip_environment(options, online=False),
        network="none",
    )
    result = engine.run(spec)
    found = [line[len(PROBE_MARKER):] for line in result.tail if line.startswith(PROBE_MARKER)]
    if not result.ok or not found:
        raise ImageError(
            f"image {options.image!r} has no working python3 (probe exit code "
            f"{result.exit_code}).",
            hint="Use an image with the target CPython on PATH as python3, such as "
            f"python:{options.python}.",
            details=result.tail_text(10),
        )
    data = json.loads(found[-1])
    version = str(data["version"])
    if ".".join(version.split(".")[:2]) != options.python or data["implementation"] != "cpython":
        raise ImageError(
            f"image {options.image!r} has {data['implementation']} {version}, but "
            f"[tool.wheelferry] python is {options.python}.",
            hint=f"Set 'image' to one with CPython {options.python} (for example "
            f"python:{options.python}) or set 'python' to the image's version.",
        )
    return version, tuple(str(tag) for tag in data["tags"])


def ensure_toolchain(engine: Engine, options: Options, base: ImageInfo,
                     log: Callable[[str], None]) -> str:
    reference = toolchain_reference(base)
    if engine.image(reference) is not None:
        return reference
    versions = toolchain_versions()
    log(f"preparing the toolchain image {reference} (pip-tools {versions['pip-tools']}, "
        f"once per image)")
    install = (
        f"python3 -m venv {containers.TOOLCHAIN_PREFIX} && "
        f"{containers.TOOLCHAIN_PYTHON} -m pip install --quiet "
        f"pip=={versions['pip']} pip-tools=={versions['pip-tools']} "
        # A current setuptools and wheel: sdist metadata is then prepared without setting up an
        # isolated environment first (see incontainer/build_wheels.py).
        "--upgrade setuptools wheel"
    )
    # No cache mount: this container runs as root and must not leave root-owned files behind.
    environment = (*containers.pip_environment(options, online=True), ("PIP_NO_CACHE_DIR", "1"))
    mounts = [Mount(options.ca_bundle, containers.CA_MOUNT)] if options.ca_bundle else []
    spec = ContainerSpec(
        image=base.id,
        # pip's settings go on the command line, not in the container's environment, which the
        # committed image would otherwise keep.
        command=("env", *(f"{k}={v}" for k, v in environment), "sh", "-c", install),
        purpose="toolchain",
        mounts=tuple(mounts),
        network=options.network,
        user="0:0",
        hardened=False,
    )
    repository, tag = reference.split(":")

    def commit(container: object) -> None:
        engine.commit(container, repository=repository, tag=tag,
                      labels={"io.wheelferry.base": base.id})

    result = engine.run(spec, on_line=None, keep=commit)
    if not result.ok:
        raise ImageError(
            f"installing pip-tools into image {options.image!r} failed (exit code "
            f"{result.exit_code}).",
            hint="Check that the configured index is reachable from containers (index-url, "
            "ca-bundle, network in [tool.wheelferry]).",
            details=result.tail_text(),
        )
    return reference


def prepare(engine: Engine, options: Options, log: Callable[[str], None]) -> Target:
    """Make sure the image is present, holds the configured Python, and has its toolchain."""
    base = engine.ensure_image(options.image)
    version, tags = probe(engine, options, base)
    toolchain = ensure_toolchain(engine, options, base, log)
    return Target(python=options.python, version=version, image=base, toolchain=toolchain,
                  tags=tags)
