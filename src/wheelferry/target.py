"""The target: the configured image, checked to hold the configured Python, and its toolchain.

The toolchain image is the target image plus a virtual environment at /opt/wheelferry with
pip-tools, committed once per (image, pip-tools, pip) so later runs start at once. The target's own
interpreter is untouched: builds and the offline proof use the same CPython.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
        command=("python3", containers.script("probe.py")),
        purpose="probe",
        mounts=(Mount(containers.SCRIPTS_DIR, containers.SCRIPTS_MOUNT),),
        environment=containers.pip_environment(options, online=False),
        network="none",
    )
    result = engine.run(spec)
    found = result.marked(PROBE_MARKER)
    if not result.ok or found is None:
        raise ImageError(
            f"image {options.image!r} has no working python3 (probe exit code "
            f"{result.exit_code}).",
            hint="Use an image with the target CPython on PATH as python3, such as "
            f"python:{options.python}.",
            details=result.tail_text(10),
        )
    data = json.loads(found)
    version = str(data["version"])
    if ".".join(version.split(".")[:2]) != options.python or data["implementation"] != "cpython":
        raise ImageError(
            f"image {options.image!r} has {data['implementation']} {version}, but "
            f"[tool.wheelferry] python is {options.python}.",
            hint=f"Set 'image' to one with CPython {options.python} (for example "
            f"python:{options.python}) or set 'python' to the image's version.",
        )
    return version, tuple(str(tag) for tag in data["tags"])


def toolchain_pip_conf(options: Options) -> str:
    lines = ["[global]"]
    if options.index_url:
        lines.append(f"index-url = {options.index_url}")
    if options.extra_index_urls:
        lines.append("extra-index-url = " + " ".join(options.extra_index_urls))
    if options.ca_bundle is not None:
        lines.append(f"cert = {containers.CA_MOUNT}")
    return "\n".join(lines) + "\n"


def toolchain_spec(options: Options, base: ImageInfo, settings: Path) -> ContainerSpec:
    """The container that installs pip-tools into the target image, as root, to be committed.

    Index settings (which may carry credentials) come from `settings`/pip.conf, a mount: a
    committed image keeps its container's environment and command line in its history, never
    its mounts."""
    versions = toolchain_versions()
    install = (
        f"python3 -m venv {containers.TOOLCHAIN_PREFIX} && "
        f"{containers.TOOLCHAIN_PYTHON} -m pip install --quiet "
        f"pip=={versions['pip']} pip-tools=={versions['pip-tools']} "
        # A current setuptools and wheel: sdist metadata is then prepared without setting up an
        # isolated environment first (see incontainer/build_wheels.py).
        "--upgrade setuptools wheel"
    )
    mounts = [Mount(settings, "/wheelferry/settings")]
    if options.ca_bundle:
        mounts.append(Mount(options.ca_bundle, containers.CA_MOUNT))
    environment = {
        "PIP_CONFIG_FILE": "/wheelferry/settings/pip.conf",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
        # No cache: this container runs as root and must leave no root-owned files.
        "PIP_NO_CACHE_DIR": "1",
    }
    return ContainerSpec(
        image=base.id,
        command=("env", *(f"{k}={v}" for k, v in environment.items()), "sh", "-c", install),
        purpose="toolchain",
        mounts=tuple(mounts),
        network=options.network,
        user="0:0",
        hardened=False,
    )


def ensure_toolchain(engine: Engine, options: Options, base: ImageInfo,
                     log: Callable[[str], None]) -> str:
    reference = toolchain_reference(base)
    if engine.image(reference) is not None:
        return reference
    versions = toolchain_versions()
    log(f"preparing the toolchain image {reference} (pip-tools {versions['pip-tools']}, "
        f"once per image)")
    settings = options.state_dir / f"toolchain-{uuid.uuid4().hex[:12]}"
    settings.mkdir(parents=True)
    try:
        (settings / "pip.conf").write_text(toolchain_pip_conf(options))
        spec = toolchain_spec(options, base, settings)
        repository, tag = reference.split(":")

        def commit(container: object) -> None:
            engine.commit(container, repository=repository, tag=tag,
                          labels={"io.wheelferry.base": base.id})

        result = engine.run(spec, on_line=None, keep=commit)
    finally:
        shutil.rmtree(settings, ignore_errors=True)
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
