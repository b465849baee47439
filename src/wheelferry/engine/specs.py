"""Every container wheelferry starts, specified in one place: what it runs, what it sees (mounts),
what it may reach (network), and as whom.

| purpose   | image     | network        | writable          | user                 |
| --------- | --------- | -------------- | ----------------- | -------------------- |
| probe     | target    | none           | nothing           | invoking user        |
| toolchain | target    | configured     | nothing (commit)  | root, to install     |
| lock      | toolchain | configured     | /out, pip cache   | invoking user        |
| build     | toolchain | configured     | /out, pip cache   | invoking user        |
| system-packages | toolchain | configured | /out (commit)   | root, to install     |
| platform-probe | platform | none        | nothing           | the platform's user  |
| standin   | target    | none           | nothing (commit)  | root, to install     |
| verify    | platform or target | none  | ~/persistent-home | the platform's user, never root |
| upstream-check | target   | configured     | pip cache         | invoking user        |

pip inside every container is isolated from any pip configuration baked into the image, and gets
exactly the index settings and CA bundle of the project's configuration. Each spec takes the
option groups it uses; the two that make images (toolchain, system-packages) are in
engine/toolchainspecs.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from wheelferry.core.files import read_json_object
from wheelferry.engine.client import ContainerSpec, Mount, host_user
from wheelferry.project.options import IndexOptions, PlatformOptions, TargetOptions, expand_home

SCRIPTS_DIR = Path(__file__).parent.parent / "incontainer"
# What the scripts share with the host and the platform, copied beside them: a script imports
# these as it imports the other scripts.
EVERYWHERE_DIR = Path(__file__).parent.parent / "everywhere"
SCRIPTS_MOUNT = "/wheelferry/scripts"
OUT_MOUNT = "/out"
CACHE_MOUNT = "/wheelferry/cache"
CA_MOUNT = "/wheelferry/ca-bundle.pem"
SETTINGS_MOUNT = "/wheelferry/settings"
JOB_MOUNT = "/job"
WHEELS_MOUNT = "/wheelferry/wheels"
TOOLCHAIN_PREFIX = "/opt/wheelferry"
TOOLCHAIN_PYTHON = f"{TOOLCHAIN_PREFIX}/bin/python"
NON_ROOT = "65534:65534"  # nobody: the platform never installs as root


def cache_root() -> Path:
    """wheelferry's folder in the user's cache: under the home folder, which Docker Desktop
    shares with its engine by default (an install under a Homebrew prefix may not be)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wheelferry"


def cache_record(kind: str, *key: object) -> Path:
    """The file of one remembered fact in the user cache (what an image's python3 says, what a
    published release does): `kind`/<sha256 of the key's JSON>.json."""
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32]
    return cache_root() / kind / f"{digest}.json"


def recall(record: Path) -> dict[str, Any]:
    """A fact remembered in the user cache ({} when there is none or it is unreadable), marked
    used: `wheelferry cache prune` removes the least recently used first."""
    data = read_json_object(record)
    if data:
        with contextlib.suppress(OSError):
            os.utime(record)
    return data


def cache_dir() -> Path:
    """The host folder for pip's download and wheel cache, shared by runs (it speeds rebuilds)."""
    path = cache_root() / "pip"
    path.mkdir(parents=True, exist_ok=True)
    return path


def scripts_dir() -> Path:
    """The in-container scripts as containers see them, everywhere/'s modules beside them:
    copied once (per content) from the installed package into the user's cache, so they can be
    mounted wherever wheelferry is installed."""
    files = sorted([*SCRIPTS_DIR.glob("*.py"),
                    *(path for path in EVERYWHERE_DIR.glob("*.py") if path.name != "__init__.py")])
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    folder = cache_root() / "scripts" / digest.hexdigest()[:16]
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".scripts-", dir=folder.parent))
        for file in files:
            (scratch / file.name).write_bytes(file.read_bytes())
        os.chmod(scratch, 0o755)
        try:
            os.rename(scratch, folder)
        except OSError:  # another run put it there first
            shutil.rmtree(scratch, ignore_errors=True)
    return folder


def script(name: str) -> str:
    """Path inside the container of one of wheelferry's in-container scripts."""
    if not (SCRIPTS_DIR / name).is_file():  # pragma: no cover - packaging error
        raise FileNotFoundError(SCRIPTS_DIR / name)
    return f"{SCRIPTS_MOUNT}/{name}"


def scripts_mount() -> Mount:
    """The in-container scripts, read-only, where every container finds them."""
    return Mount(scripts_dir(), SCRIPTS_MOUNT, read_only=True)


def watched(spec: ContainerSpec) -> ContainerSpec:
    """Every container's command runs under the watchdog, which ends it when wheelferry is gone
    (the engine then removes the container): the image's python3 runs it, before any
    entrypoint of the image's own."""
    mounts = spec.mounts if scripts_mount() in spec.mounts else (*spec.mounts, scripts_mount())
    return dataclasses.replace(
        spec, entrypoint=("python3",), mounts=mounts, watched=True,
        command=(script("watchdog.py"), *(spec.entrypoint or ()), *spec.command))


def host_user_or(fallback: str) -> str:
    """The invoking user, unless that is root or the host has no uid (Windows): then `fallback`
    (a step that must not run as root, such as the install proof)."""
    user = host_user()
    return fallback if user is None or user.startswith("0:") else user


def pip_environment(index: IndexOptions | None) -> tuple[tuple[str, str], ...]:
    """pip's environment in a container: online with the configured index settings, or offline
    (`index` None) with no index and no cache."""
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
    if index is not None:
        env["PIP_CACHE_DIR"] = CACHE_MOUNT
        if index.index_url:
            env["PIP_INDEX_URL"] = index.index_url
        if index.extra_index_urls:
            env["PIP_EXTRA_INDEX_URL"] = " ".join(index.extra_index_urls)
        if index.ca_bundle is not None:
            for var in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
                env[var] = CA_MOUNT
    else:
        env["PIP_NO_CACHE_DIR"] = "1"
        env["PIP_NO_INDEX"] = "1"
    return tuple(sorted(env.items()))


def probe_spec(target: TargetOptions, image_id: str) -> ContainerSpec:
    """The target's own python3 tells its version and tags: no network, nothing writable."""
    return watched(ContainerSpec(
        platform=target.engine_platform,
        image=image_id,
        command=("python3", script("probe.py")),
        purpose="probe",
        mounts=(scripts_mount(),),
        environment=pip_environment(None),
        network="none",
    ))


def platform_probe_spec(target: TargetOptions, *, image_id: str, user: str) -> ContainerSpec:
    """The platform image's own python3 (from its PATH, past any entrypoint), as the platform's
    user, network off, nothing writable, its environment as the image sets it."""
    return watched(ContainerSpec(
        platform=target.engine_platform,
        image=image_id,
        entrypoint=("python3",),
        command=(script("probe.py"), "--platform"),
        purpose="platform-probe",
        mounts=(scripts_mount(),),
        environment=(("PYTHONDONTWRITEBYTECODE", "1"),),
        network="none",
        user=user,
    ))


def _online(target: TargetOptions, index: IndexOptions, *, image: str, purpose: str,
            script_name: str, out: Path) -> ContainerSpec:
    """A toolchain container that may reach the configured indexes, with `out` writable. It
    never sees the project folder: the host copies in what the step needs."""
    mounts = [
        scripts_mount(),
        Mount(out, OUT_MOUNT, read_only=False),
        Mount(cache_dir(), CACHE_MOUNT, read_only=False),
    ]
    if index.ca_bundle is not None:
        mounts.append(Mount(index.ca_bundle, CA_MOUNT, read_only=True))
    return watched(ContainerSpec(
        platform=target.engine_platform,
        image=image,
        command=(TOOLCHAIN_PYTHON, script(script_name)),
        purpose=purpose,
        mounts=tuple(mounts),
        environment=pip_environment(index),
        network=index.network,
        workdir="/tmp",
    ))


def lock_spec(target: TargetOptions, index: IndexOptions, *, toolchain: str,
              out: Path) -> ContainerSpec:
    """pip-compile over the inputs the host copied to `out`/inputs."""
    return _online(target, index, image=toolchain, purpose="lock", script_name="compile_locks.py",
                   out=out)


def build_spec(target: TargetOptions, index: IndexOptions, *, toolchain: str,
               out: Path) -> ContainerSpec:
    """Fetch and build the pins in `out`/job.json into `out`/wheels."""
    return _online(target, index, image=toolchain, purpose="build", script_name="build_wheels.py",
                   out=out)


def standin_spec(target: TargetOptions, *, image_id: str, wheels: Path,
                 files: list[str]) -> ContainerSpec:
    """Installs the provided packages' wheels as root into the target image's system
    site-packages, to be committed as the platform's stand-in: no network, the wheels read-only
    (they were checked against the lock before)."""
    return watched(ContainerSpec(
        platform=target.engine_platform,
        image=image_id,
        command=("python3", "-m", "pip", "install", "--no-index", "--no-deps",
                 "--no-compile", *(f"{WHEELS_MOUNT}/{file}" for file in files)),
        purpose="standin",
        mounts=(Mount(wheels, WHEELS_MOUNT),),
        environment=pip_environment(None),
        network="none",
        user="0:0",
    ))


def proof_spec(target: TargetOptions, platform: PlatformOptions, *, wheelhouse: Path,
               image_id: str, user: str, home: str,
               persistent_home: Path, scratch_home: Path | None, job_dir: Path) -> ContainerSpec:
    """The proof: a fresh container of the platform image (or the plain target image), network
    off, as the platform's user (never root), started the way the platform starts a desktop:
    `persistent_home` (holding the generated init.sh) at ~/persistent-home and the wheelhouse,
    read-only, at install-dir. A plain image's user has no home of its own: `scratch_home` is
    mounted as HOME. Only the proof script's job and the scripts are added."""
    mounts = [Mount(persistent_home, f"{home}/persistent-home", read_only=False),
              Mount(wheelhouse, expand_home(platform.install_dir, home)),
              Mount(job_dir, JOB_MOUNT), scripts_mount()]
    environment: tuple[tuple[str, str], ...] = ()
    if scratch_home is not None:
        mounts.insert(0, Mount(scratch_home, home, read_only=False))
        environment = (("HOME", home),)
    return watched(ContainerSpec(
        platform=target.engine_platform,
        image=image_id,
        entrypoint=("python3",),
        command=(script("prove_install.py"),),
        purpose="verify",
        mounts=tuple(mounts),
        environment=environment,
        network="none",
        user=user,
        workdir=home,
    ))


def upstream_check_spec(target: TargetOptions, index: IndexOptions, *, image_id: str,
                        job_dir: Path) -> ContainerSpec:
    """After the proof, for submodules it could not judge: each distribution as published (its
    wheel, else its sdist built by pip) installed into a scratch venv of the target image, online
    with the configured index, and the submodules imported there. Sees only its job, the scripts
    and pip's cache."""
    mounts = [scripts_mount(), Mount(job_dir, JOB_MOUNT),
              Mount(cache_dir(), CACHE_MOUNT, read_only=False)]
    if index.ca_bundle is not None:
        mounts.append(Mount(index.ca_bundle, CA_MOUNT, read_only=True))
    return watched(ContainerSpec(
        platform=target.engine_platform,
        image=image_id,
        command=("python3", script("upstream_check.py")),
        purpose="upstream-check",
        mounts=tuple(mounts),
        environment=pip_environment(index),
        network=index.network,
        workdir="/tmp",
    ))
