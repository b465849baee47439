"""The real container engine, `DockerEngine`, through the Docker SDK for Python: connecting, images,
containers created, run and removed. It implements the `Engine` protocol (protocol.py) that every
caller types with; this module re-exports that protocol and its values.

`docker.from_env()` honours DOCKER_HOST, so a remote engine or podman's Docker-compatible socket
work the same way. Every container wheelferry starts is labelled, streamed, and removed when the
run ends, whether it succeeded, failed or was interrupted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types
from docker.utils import parse_repository_tag

from wheelferry.core.errors import EngineError, ImageError
from wheelferry.engine.output import OutputLines, read_attached, read_followed, remove_for_good

# The protocol and its values, also importable from here (where the package long found them).
from wheelferry.engine.protocol import ContainerSpec as ContainerSpec
from wheelferry.engine.protocol import Engine as Engine
from wheelferry.engine.protocol import ImageInfo as ImageInfo
from wheelferry.engine.protocol import Mount as Mount
from wheelferry.engine.protocol import RunResult as RunResult

LABEL = "io.wheelferry"
# The project a container works for, so that `docker ps --filter label=io.wheelferry.project=DIR`
# tells one project's containers from another's running at the same moment.
PROJECT_LABEL = "io.wheelferry.project"
# The engine's architecture names, as `uname -m` says them.
_UNAME = {"amd64": "x86_64", "arm64": "aarch64"}
EXEC_FORMAT_ERROR = "exec format error"
_PODMAN_SOCKETS = ("{runtime}/podman/podman.sock", "/run/podman/podman.sock")


def host_user() -> str | None:
    """The invoking user as uid:gid, so that files written to mounts belong to them; None where
    the host has no such ids (Windows): the engine then maps ownership itself (Docker Desktop
    does) and containers run as the image's default user."""
    if sys.platform == "win32":
        return None
    return f"{os.getuid()}:{os.getgid()}"


def _podman_base_url() -> str | None:
    if sys.platform == "win32":
        return None
    runtime = os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")
    for pattern in _PODMAN_SOCKETS:
        path = Path(pattern.format(runtime=runtime))
        if path.exists():
            return f"unix://{path}"
    return None


class DockerEngine:
    """A connected container engine, through the Docker SDK (implements `Engine`)."""

    def __init__(self, client: Any, *, kind: str = "docker", project: Path | None = None) -> None:
        self._client = client
        self.kind = kind
        self.project = project

    @classmethod
    def connect(cls, kind: str = "docker", *, timeout: int = 120,
                project: Path | None = None) -> DockerEngine:
        """Connect and check that the engine answers; EngineError with the remedy otherwise."""
        where = os.environ.get("DOCKER_HOST")
        try:
            if kind == "podman" and not where:
                base_url = _podman_base_url()
                if base_url is None:
                    raise EngineError(
                        "podman was chosen but no podman socket was found.",
                        hint="Start it with 'systemctl --user start podman.socket' (or set "
                        "DOCKER_HOST to its socket, unix:///run/user/UID/podman/podman.sock).",
                    )
                where = base_url
                client = docker.DockerClient(base_url=base_url, timeout=timeout)
            else:
                client = docker.from_env(timeout=timeout)
            client.ping()
        except docker.errors.DockerException as exc:
            target = f"DOCKER_HOST={where}" if where else "the default socket"
            raise EngineError(
                f"the {kind} engine at {target} does not answer ({_short(exc)}).",
                hint="Is the daemon running (start it, e.g. 'sudo systemctl start docker', or run "
                "scripts/provision.sh), and is DOCKER_HOST right? Your user also needs "
                "permission to use its socket.",
            ) from exc
        return cls(client, kind=kind, project=project)

    def close(self) -> None:
        self._client.close()

    # -- images ---------------------------------------------------------------------------

    def image(self, reference: str) -> ImageInfo | None:
        try:
            image = self._client.images.get(reference)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            raise EngineError(f"the engine failed to look up image {reference!r}: "
                              f"{_short(exc)}.") from exc
        digests = image.attrs.get("RepoDigests") or []
        digest = digests[0] if digests else image.id
        user = (image.attrs.get("Config") or {}).get("User") or ""
        arch = _UNAME.get(image.attrs.get("Architecture", ""), image.attrs.get("Architecture", ""))
        return ImageInfo(reference=reference, id=image.id, digest=digest, user=user, arch=arch)

    def labels(self, reference: str) -> dict[str, str]:
        """The image's labels ({} when it is absent)."""
        try:
            image = self._client.images.get(reference)
        except docker.errors.ImageNotFound:
            return {}
        except docker.errors.APIError as exc:
            raise EngineError(f"the engine failed to look up image {reference!r}: "
                              f"{_short(exc)}.") from exc
        return dict((image.attrs.get("Config") or {}).get("Labels") or {})

    def ensure_image(self, reference: str, *, platform: str | None = None) -> ImageInfo:
        """The image, pulled if it is not present; ImageError saying how to provide it."""
        found = self.image(reference)
        if found is not None:
            return found
        repository, tag = parse_repository_tag(reference)
        try:
            self._client.images.pull(repository, tag=tag or "latest", platform=platform)
        except docker.errors.DockerException as exc:
            raise ImageError(
                f"image {reference!r} is not on this machine and pulling it failed "
                f"({_short(exc)}).",
                hint=f"Pull or load it yourself ('docker pull {reference}' where a registry "
                "answers, or 'docker load -i FILE'), set 'image' in [tool.wheelferry] to an "
                "image you have, or run scripts/provision.sh, which builds a stand-in for "
                "python:X.Y without a registry.",
            ) from exc
        found = self.image(reference)
        if found is None:  # pragma: no cover - the engine said it pulled it
            raise ImageError(f"image {reference!r} was pulled but cannot be found.")
        return found

    def commit(self, container: Any, *, repository: str, tag: str,
               labels: Mapping[str, str]) -> ImageInfo:
        changes = [f"LABEL {key}={value}" for key, value in labels.items()]
        changes += ["USER root", 'CMD ["python3"]']
        container.commit(repository=repository, tag=tag, changes=changes)
        info = self.image(f"{repository}:{tag}")
        assert info is not None
        return info

    # -- containers -----------------------------------------------------------------------

    @contextmanager
    def container(self, spec: ContainerSpec, *, auto_remove: bool = False) -> Iterator[Any]:
        """A created (not started) container that is always removed when the block ends (by the
        engine itself, when `auto_remove`, even if this process dies)."""
        # Mounts (not `volumes`): they stay in the host config and never leak into an image
        # committed from the container.
        mounts = [
            docker.types.Mount(m.target, str(m.source), type="bind", read_only=m.read_only)
            for m in spec.mounts
        ]
        options: dict[str, Any] = {"detach": True}
        if spec.watched:
            # Attached stdin, closed when this client goes (StdinOnce): the watchdog's signal.
            options.update(detach=False, stdin_open=True, auto_remove=auto_remove)
        if spec.entrypoint is not None:
            options["entrypoint"] = list(spec.entrypoint)
        if spec.platform is not None:
            options["platform"] = spec.platform
        if spec.hardened:
            options["cap_drop"] = ["ALL"]
            options["security_opt"] = ["no-new-privileges"]
        try:
            container = self._client.containers.create(
                spec.image,
                command=list(spec.command),
                mounts=mounts,
                environment=dict(spec.environment),
                network_mode=spec.network,
                user=spec.user if spec.user is not None else host_user(),
                working_dir=spec.workdir,
                labels=self._labels(spec),
                **options,
            )
        except docker.errors.ImageNotFound as exc:
            raise ImageError(f"image {spec.image!r} is not on this machine.",
                             hint="Run the command again; wheelferry pulls it first.") from exc
        except docker.errors.DockerException as exc:
            raise EngineError(f"the engine could not create a container from {spec.image!r} "
                              f"({_short(exc)}).") from exc
        try:
            yield container
        finally:
            # Also on KeyboardInterrupt: nothing is left behind, running or stopped.
            remove_for_good(container)

    def _labels(self, spec: ContainerSpec) -> dict[str, str]:
        labels = {LABEL: spec.purpose}
        if self.project is not None:
            labels[PROJECT_LABEL] = str(self.project)
        return labels

    def run(self, spec: ContainerSpec, *, on_line: Callable[[str], None] | None = None,
            keep: Callable[[Any], None] | None = None) -> RunResult:
        """Run the spec to completion, streaming its output line by line.

        `keep`, when given, receives the stopped container before it is removed (used to commit
        a toolchain image)."""
        lines = OutputLines(on_line)
        with self.container(spec, auto_remove=keep is None) as container:
            try:
                if spec.watched:
                    status = read_attached(container, lines)
                else:
                    status = read_followed(container, lines)
            except docker.errors.DockerException as exc:
                raise EngineError(f"the engine failed while running {spec.purpose} "
                                  f"({_short(exc)}).") from exc
            lines.finish()
            exit_code = lines.exit_code if lines.exit_code is not None else status
            if exit_code != 0 and any(EXEC_FORMAT_ERROR in line for line in list(lines.tail)[:5]):
                raise EngineError(
                    f"this engine cannot run {spec.platform or 'the image'}'s programs "
                    f"({EXEC_FORMAT_ERROR}): the image is for another machine and no emulation "
                    "is set up.",
                    hint="Enable emulation: on Linux, install qemu-user-static with "
                    "binfmt-support (Debian/Ubuntu packages); with Docker Desktop on Apple "
                    "Silicon, turn on 'Use Rosetta for x86_64/amd64 emulation' (Settings > "
                    "General). Or set 'arch' to the platform's real machine. Nothing was "
                    "written.")
            if keep is not None and exit_code == 0:
                keep(container)
        return RunResult(exit_code=exit_code, tail=tuple(lines.tail))

    def leftover_containers(self) -> dict[str, Path | None]:
        """Wheelferry containers that exist (running or not), by name, each with the project it
        works for (None: not said): outside a run there should be none."""
        # Another run may remove one between the listing and its inspection: not a leftover.
        found = self._client.containers.list(all=True, filters={"label": LABEL},
                                             ignore_removed=True)
        return {c.name: _project_of(c.labels) for c in found}


def _project_of(labels: Mapping[str, str] | None) -> Path | None:
    value = (labels or {}).get(PROJECT_LABEL)
    return Path(value) if value else None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
