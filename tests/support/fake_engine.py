"""A fake container engine for fast unit tests of the flows (it implements the `Engine`
protocol): it records every container that would run, and answers each from a script the test
sets up, as the real container scripts would: an exit code, output lines, and files written
into the container's writable mount (a report JSON, wheels, locks). A container nobody scripted
an answer for fails the test: every container a flow starts is one the test expected."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from wheelferry.core.errors import ImageError
from wheelferry.engine.protocol import ContainerSpec, ImageInfo, RunResult
from wheelferry.engine.specs import OUT_MOUNT
from wheelferry.target.image import PROBE_MARKER, toolchain_reference


@dataclass(frozen=True)
class Answer:
    """What one container does: its exit code, its output lines, and the files it writes
    (relative path -> content) under the writable mount at `into`."""

    exit_code: int = 0
    lines: tuple[str, ...] = ()
    files: Mapping[str, bytes | str] = field(default_factory=dict)
    into: str = OUT_MOUNT


# An answer, or a function of the container's spec and its writable folder on the host (to read
# the job a flow wrote there before it answers).
Reply = Answer | Callable[[ContainerSpec, Path], Answer]


@dataclass(frozen=True)
class Committed:
    """A container committed as an image (a toolchain, a stand-in, a system-packages image)."""

    purpose: str
    reference: str
    labels: Mapping[str, str]


class FakeEngine:
    """Images present by reference; answers queued by container purpose (each used once, in
    order), then the purpose's standing answer, if any."""

    def __init__(self, images: Mapping[str, ImageInfo] | None = None) -> None:
        self.images: dict[str, ImageInfo] = dict(images or {})
        self.image_labels: dict[str, dict[str, str]] = {}
        self.ran: list[ContainerSpec] = []
        self.committed: list[Committed] = []
        self._queued: dict[str, deque[Reply]] = {}
        self._standing: dict[str, Reply] = {}

    # -- the script -------------------------------------------------------------------------

    def answer(self, purpose: str, *replies: Reply) -> None:
        """The next containers of `purpose` answer these, in order."""
        self._queued.setdefault(purpose, deque()).extend(replies)

    def always(self, purpose: str, reply: Reply) -> None:
        """Every container of `purpose` answers this once its queued answers are used."""
        self._standing[purpose] = reply

    @property
    def purposes(self) -> list[str]:
        """The purpose of every container run so far, in order."""
        return [spec.purpose for spec in self.ran]

    # -- the Engine protocol ----------------------------------------------------------------

    def image(self, reference: str) -> ImageInfo | None:
        return self.images.get(reference)

    def labels(self, reference: str) -> dict[str, str]:
        return dict(self.image_labels.get(reference, {}))

    def ensure_image(self, reference: str, *, platform: str | None = None) -> ImageInfo:
        found = self.images.get(reference)
        if found is None:
            raise ImageError(f"image {reference!r} is not on this machine and pulling it failed "
                             "(the fake engine has no registry).")
        return found

    def commit(self, container: Any, *, repository: str, tag: str,
               labels: Mapping[str, str]) -> ImageInfo:
        assert isinstance(container, ContainerSpec)
        reference = f"{repository}:{tag}"
        info = ImageInfo(reference=reference, id=f"sha256:committed-{len(self.committed)}",
                         digest=f"sha256:committed-{len(self.committed)}", user="root",
                         arch=self.images[container.image].arch
                         if container.image in self.images else "")
        self.images[reference] = info
        self.image_labels[reference] = dict(labels)
        self.committed.append(Committed(container.purpose, reference, dict(labels)))
        return info

    def run(self, spec: ContainerSpec, *, on_line: Callable[[str], None] | None = None,
            keep: Callable[[Any], None] | None = None) -> RunResult:
        self.ran.append(spec)
        queued = self._queued.get(spec.purpose)
        reply = queued.popleft() if queued else self._standing.get(spec.purpose)
        if reply is None:
            raise AssertionError(f"no answer scripted for a {spec.purpose!r} container "
                                 f"({' '.join(spec.command)})")
        answer = reply(spec, writable(spec)) if callable(reply) else reply
        if answer.files:
            folder = writable(spec, answer.into)
            for name, content in answer.files.items():
                path = folder / PurePosixPath(name)
                assert folder.resolve() in path.resolve().parents, name
                path.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, str):
                    path.write_text(content)
                else:
                    path.write_bytes(content)
        for line in answer.lines:
            if on_line is not None:
                on_line(line)
        if keep is not None and answer.exit_code == 0:
            keep(spec)  # the "stopped container" the engine commits: its spec
        return RunResult(exit_code=answer.exit_code, tail=answer.lines)


def writable(spec: ContainerSpec, target: str = OUT_MOUNT) -> Path:
    """The host folder mounted writable at `target` (what a container's files land in); for a
    container that has none there, a folder that does not exist."""
    for mount in spec.mounts:
        if mount.target == target and not mount.read_only:
            return mount.source
    return Path("/nonexistent-writable-mount")


# -- a target the flows accept ----------------------------------------------------------------


TARGET_TAGS = ("cp310-cp310-manylinux_2_17_x86_64", "cp310-abi3-manylinux_2_17_x86_64",
               "py3-none-manylinux_2_17_x86_64", "cp310-none-any", "py3-none-any")


def target_engine(image: str = "python:3.10", *, arch: str = "x86_64",
                  version: str = "3.10.14") -> FakeEngine:
    """A fake engine with the target image and its toolchain image present, whose probe
    containers say it runs CPython `version` on `arch`."""
    base = ImageInfo(reference=image, id=f"sha256:{image}", digest=f"{image}@sha256:0",
                     arch=arch)
    engine = FakeEngine({image: base})
    toolchain = toolchain_reference(base)
    engine.images[toolchain] = ImageInfo(reference=toolchain, id=f"sha256:{toolchain}",
                                         digest=f"sha256:{toolchain}", arch=arch)
    probe = {"version": version, "implementation": "cpython", "machine": arch,
             "tags": list(TARGET_TAGS)}
    engine.always("probe", Answer(lines=(f"{PROBE_MARKER}{json.dumps(probe)}",)))
    return engine


# -- canned answers of the lock and build containers, as their scripts write them -------------


def locks_written(bodies: Mapping[str, str], *, lines: tuple[str, ...] = ()
                  ) -> Callable[[ContainerSpec, Path], Answer]:
    """The lock container resolving every lock its plan asks for: each lock's body (by its
    path in the project, "requirements/base.txt"), as compile_locks.py writes it."""

    def reply(spec: ContainerSpec, out: Path) -> Answer:
        plan = json.loads((out / "plan.json").read_text())
        files = {f"locks/{item['out']}": bodies[item["out"]] for item in plan["files"]}
        result = {"ok": True, "discovered": {}, "build_lock": False}
        return Answer(lines=lines, files={**files, "result.json": json.dumps(result)})

    return reply


def lock_failed(failed: str, *lines: str) -> Answer:
    """The lock container failing to resolve `failed` (an input's path), saying `lines`."""
    result = {"ok": False, "failed": failed, "discovered": {}}
    return Answer(exit_code=1, lines=lines, files={"result.json": json.dumps(result)})


@dataclass(frozen=True)
class Made:
    """One pin as the build container reports it (incontainer/messages.py's BuildReport),
    with the wheel it writes to wheels/ (when it succeeded)."""

    name: str
    file: str = ""
    content: bytes = b""
    origin: str = "downloaded"
    ok: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        done = {"origin": self.origin, "file": self.file, "seconds": 1.5} if self.ok else {}
        return {"name": self.name, "ok": self.ok, **done, **self.extra}


def wheels_made(*made: Made, exit_code: int = 0, lines: tuple[str, ...] = (),
                logs: Mapping[str, str] | None = None) -> Answer:
    """The build container's answer: result.json's "packages", each wheel in wheels/, and the
    build logs of failed pins in logs/NAME.log, as build_wheels.py writes them."""
    files: dict[str, bytes | str] = {
        "result.json": json.dumps({"packages": [m.report() for m in made]})}
    files.update({f"wheels/{m.file}": m.content for m in made if m.ok})
    files.update({f"logs/{name}.log": text for name, text in (logs or {}).items()})
    return Answer(exit_code=exit_code, lines=lines, files=files)
