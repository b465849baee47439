"""What wheelferry's containers see: mounts, pip's environment, and the in-container scripts.

pip inside the container is isolated from any pip configuration baked into the image, and gets
exactly the index settings and CA bundle of the project's configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

from wheelferry.config import Options
from wheelferry.engine import ContainerSpec, Mount, host_user

SCRIPTS_DIR = Path(__file__).parent / "incontainer"
SCRIPTS_MOUNT = "/wheelferry/scripts"
PROJECT_MOUNT = "/project"
OUT_MOUNT = "/out"
CACHE_MOUNT = "/wheelferry/cache"
CA_MOUNT = "/wheelferry/ca-bundle.pem"
TOOLCHAIN_PREFIX = "/opt/wheelferry"
TOOLCHAIN_PYTHON = f"{TOOLCHAIN_PREFIX}/bin/python"


def cache_dir() -> Path:
    """The host folder for pip's download and wheel cache, shared by runs (it speeds rebuilds)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "wheelferry" / "pip"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pip_environment(options: Options, *, online: bool = True) -> tuple[tuple[str, str], ...]:
    env: dict[str, str] = {
        "PIP_CONFIG_FILE": "/dev/null",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
        "PIP_PROGRESS_BAR": "off",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        # The container runs as the invoking uid, which has no home in the image.
        "HOME": "/tmp",
    }
    if online:
        env["PIP_CACHE_DIR"] = CACHE_MOUNT
        if options.index_url:
            env["PIP_INDEX_URL"] = options.index_url
        if options.extra_index_urls:
            env["PIP_EXTRA_INDEX_URL"] = " ".join(options.extra_index_urls)
        if options.ca_bundle is not None:
            for var in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
                env[var] = CA_MOUNT
    else:
        env["PIP_NO_CACHE_DIR"] = "1"
        env["PIP_NO_INDEX"] = "1"
    return tuple(sorted(env.items()))


def online_spec(options: Options, *, image: str, purpose: str, command: tuple[str, ...],
                out: Path, extra_mounts: tuple[Mount, ...] = (),
                project: bool = True) -> ContainerSpec:
    """A container that may reach the configured indexes: `out` writable, the project read-only
    when the step needs it (`project`)."""
    mounts = [
        *([Mount(options.project_dir, PROJECT_MOUNT, read_only=True)] if project else []),
        Mount(SCRIPTS_DIR, SCRIPTS_MOUNT, read_only=True),
        Mount(out, OUT_MOUNT, read_only=False),
        Mount(cache_dir(), CACHE_MOUNT, read_only=False),
        *extra_mounts,
    ]
    if options.ca_bundle is not None:
        mounts.append(Mount(options.ca_bundle, CA_MOUNT, read_only=True))
    return ContainerSpec(
        image=image,
        command=command,
        purpose=purpose,
        mounts=tuple(mounts),
        environment=pip_environment(options, online=True),
        network=options.network,
        workdir=PROJECT_MOUNT if project else "/tmp",
    )


def script(name: str) -> str:
    """Path inside the container of one of wheelferry's in-container scripts."""
    if not (SCRIPTS_DIR / name).is_file():  # pragma: no cover - packaging error
        raise FileNotFoundError(SCRIPTS_DIR / name)
    return f"{SCRIPTS_MOUNT}/{name}"


def host_user_or(fallback: str) -> str:
    """The invoking user, unless that is root: then `fallback` (a step that must not run as
    root, such as the install proof)."""
    return fallback if os.getuid() == 0 else host_user()
