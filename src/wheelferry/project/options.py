"""A project's validated configuration: the project's own files, then one frozen group per
concern (the target, the indexes, the platform, the build, the proof), each choice a Literal
that project/config.py checked once when it read the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from packaging.utils import NormalizedName, canonicalize_name

from wheelferry.project.overrides import BuildOverride

Engine = Literal["docker", "podman"]
Network = Literal["bridge", "host"]
# Who resolves the locks: uv (fast; pip-compile takes over whatever uv cannot lock, to explain
# it or to handle sdists that need help) or pip-compile alone. Same lock format either way.
Resolver = Literal["uv", "pip-compile"]
# The platform's machine, as `uname -m` says it.
Arch = Literal["x86_64", "aarch64"]

ENGINES: tuple[Engine, ...] = get_args(Engine)
NETWORKS: tuple[Network, ...] = get_args(Network)
RESOLVERS: tuple[Resolver, ...] = get_args(Resolver)
# Each machine and the engine's name for it.
ARCHITECTURES: dict[Arch, str] = {"x86_64": "linux/amd64", "aarch64": "linux/arm64"}

DEFAULT_PYTHON = "3.10"
DEFAULT_INSTALL_DIR = "~/persistent-home/my-tools"


@dataclass(frozen=True)
class TargetOptions:
    """Where wheels are locked and built: the target interpreter, its image, and the platform's
    machine, which every container runs as (emulated where the host differs)."""

    python: str = DEFAULT_PYTHON
    image: str = f"python:{DEFAULT_PYTHON}"
    arch: Arch = "x86_64"

    @property
    def engine_platform(self) -> str:
        """The engine's platform for `arch` (linux/amd64, linux/arm64)."""
        return ARCHITECTURES[self.arch]

    @property
    def python_tuple(self) -> tuple[int, int]:
        major, minor = self.python.split(".")
        return int(major), int(minor)


@dataclass(frozen=True)
class IndexOptions:
    """How the online containers (toolchain, lock, build, upstream check) reach the package
    indexes: which indexes, trusting which CA bundle, over which network."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    ca_bundle: Path | None = None
    network: Network = "bridge"


@dataclass(frozen=True)
class PlatformOptions:
    """The platform: where the wheelhouse lives on it, its own image (read and proven in, never
    built in), its user, and what it provides."""

    install_dir: str = DEFAULT_INSTALL_DIR
    image: str | None = None
    user: str | None = None
    # A freeze file of the platform's packages; None with provided_from_image or nothing provided.
    provided_file: Path | None = None
    provided_from_image: bool = False
    replace_provided: tuple[NormalizedName, ...] = ()


@dataclass(frozen=True)
class BuildOptions:
    """How the locks are resolved and the wheels built: the resolver, the OS packages every
    build gets, and the configured per-package overrides."""

    resolver: Resolver = "uv"
    # OS packages installed in the build container for every build (overrides add their own).
    system_packages: tuple[str, ...] = ()
    overrides: tuple[BuildOverride, ...] = field(default=())

    def configured(self, name: str) -> BuildOverride | None:
        """The override configured for a package; a build uses locking.Project.override_for,
        which adds those that locking found."""
        wanted = canonicalize_name(name)
        return next((o for o in self.overrides if o.name == wanted), None)


@dataclass(frozen=True)
class ProofOptions:
    """What the proof and the review check beyond the install: imports to skip, the smoke test,
    the licences accepted."""

    skip_imports: tuple[str, ...] = ()
    # Python code the proof runs after init.sh and the imports ("": none), and the project file
    # it was read from (None: the setting holds the code itself).
    smoke_test: str = ""
    smoke_test_file: Path | None = None
    # The licences the review accepts (empty: any, each shown); anything else is an error.
    allowed_licenses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Options:
    """The validated configuration of one project: its files, its engine, and the groups."""

    project_dir: Path
    pyproject: Path
    requirements: tuple[Path, ...]
    wheelhouse: Path
    engine: Engine = "docker"
    target: TargetOptions = field(default_factory=TargetOptions)
    index: IndexOptions = field(default_factory=IndexOptions)
    platform: PlatformOptions = field(default_factory=PlatformOptions)
    build: BuildOptions = field(default_factory=BuildOptions)
    proof: ProofOptions = field(default_factory=ProofOptions)


def expand_home(path: str, home: str) -> str:
    """A platform path setting (install-dir) as the platform sees it for a user whose HOME is
    `home`: a leading ~ or $HOME expanded, trailing slashes dropped."""
    for prefix in ("~", "$HOME"):
        if path == prefix or path.startswith(prefix + "/"):
            path = home.rstrip("/") + path[len(prefix):]
            break
    return path.rstrip("/") or "/"
