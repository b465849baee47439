"""What the rest of the package asks of a container engine (`Engine`), and the values it speaks
in: a container's spec and mounts, a run's result, an image's facts. The real engine
(client.py) and the tests' fake both implement it; everything outside `engine/` that takes an
engine is typed with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Mount:
    """A host path made visible in the container."""

    source: Path
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to run one command in one container."""

    image: str
    command: tuple[str, ...]
    purpose: str
    mounts: tuple[Mount, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    network: str = "bridge"
    # None: the invoking user's uid:gid, so that files written to mounts belong to them.
    user: str | None = None
    workdir: str | None = None
    # Dropping capabilities is right for builds; setting up a toolchain as root needs them.
    hardened: bool = True
    # None: the image's own entrypoint (wheelferry's images have none; a platform's may).
    entrypoint: tuple[str, ...] | None = None
    # The engine's platform every container runs as (linux/amd64, ...); None: the engine's own.
    platform: str | None = None
    # The command runs under incontainer/watchdog.py: the container ends, and the engine
    # removes it, when this client is gone.
    watched: bool = False


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    tail: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def tail_text(self, lines: int = 25) -> str:
        return "\n".join(self.tail[-lines:])

    def marked(self, marker: str) -> str | None:
        """The rest of the last output line that starts with `marker` (how the in-container
        scripts report their results), or None."""
        found = [line[len(marker):] for line in self.tail if line.startswith(marker)]
        return found[-1] if found else None


@dataclass(frozen=True)
class ImageInfo:
    reference: str
    id: str
    # The registry digest when the image came from one; the local id otherwise.
    digest: str
    # The user the image's containers run as by default (its USER; "" when unset).
    user: str = ""
    # Its machine, as `uname -m` says it (x86_64, aarch64; the engine says amd64, arm64).
    arch: str = ""


class Engine(Protocol):
    """A connected container engine, as the stages use it: images looked up, pulled and
    committed, and containers run to completion."""

    def image(self, reference: str) -> ImageInfo | None:
        """The image, or None when it is not on this machine."""

    def labels(self, reference: str) -> dict[str, str]:
        """The image's labels ({} when it is absent)."""

    def ensure_image(self, reference: str, *, platform: str | None = None) -> ImageInfo:
        """The image, pulled if it is not present; ImageError saying how to provide it."""

    def commit(self, container: Any, *, repository: str, tag: str,
               labels: Mapping[str, str]) -> ImageInfo:
        """A stopped container (as `run` hands it to `keep`) committed as repository:tag."""

    def run(self, spec: ContainerSpec, *, on_line: Callable[[str], None] | None = None,
            keep: Callable[[Any], None] | None = None) -> RunResult:
        """Run the spec to completion, each output line passed to `on_line`; `keep` receives
        the stopped container of a successful run before it is removed."""
