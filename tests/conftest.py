"""Test bed: isolation from the host's pip configuration, the local index, project factories.

Integration tests need a real engine and the target image; scripts/test.sh provisions both. They
fail (not skip) when the engine is missing, so a green run always exercised real containers.
"""

from __future__ import annotations

import os
import ssl
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.local_index import build_index, default_cache_dir, serve_index
from wheelferry.config import load_options
from wheelferry.engine import Engine
from wheelferry.target import ensure_toolchain as ensure_target_toolchain

TARGET_PYTHON = "3.10"
TARGET_IMAGE = f"python:{TARGET_PYTHON}"


def pytest_configure(config: pytest.Config) -> None:
    # The host's pip configuration (extra indexes, constraints, find-links) must not leak into
    # anything the tests run; the CA bundle it points at is kept for the few public-index tests.
    for name in list(os.environ):
        if name.startswith("PIP_"):
            del os.environ[name]
    os.environ["PIP_CONFIG_FILE"] = os.devnull
    os.environ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"


def host_ca_bundle() -> str | None:
    cafile = ssl.get_default_verify_paths().cafile
    return cafile if cafile and Path(cafile).is_file() else None


def ensure_toolchain(engine: Engine, scratch: Path) -> None:
    """The toolchain image (the target plus pip-tools) is made from the public index, where
    pip-tools lives; fixture projects then lock and build against the local index alone."""
    options = load_options(write_project(scratch / "project", {"base.in": "six\n"}))
    base = engine.ensure_image(options.image)
    ensure_target_toolchain(engine, options, base, lambda line: None)


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    try:
        connected = Engine.connect()
    except Exception as exc:
        pytest.fail(f"no container engine: {exc}. Run the tests with scripts/test.sh, which "
                    "starts one.", pytrace=False)
    if connected.image(TARGET_IMAGE) is None:
        pytest.fail(f"image {TARGET_IMAGE} is missing; scripts/test.sh provisions it.",
                    pytrace=False)
    ensure_toolchain(connected, tmp_path_factory.mktemp("toolchain"))
    yield connected
    connected.close()


@pytest.fixture(autouse=True)
def _no_container_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every engine test leaves no wheelferry container behind, running or stopped. (Containers
    that existed before the test are not its doing; CI runs one session at a time.)"""
    if request.node.get_closest_marker("engine") is None:
        yield
        return
    engine: Engine = request.getfixturevalue("engine")
    before = set(engine.leftover_containers())
    yield
    left = [name for name in engine.leftover_containers() if name not in before]
    assert not left, f"containers left behind: {left}"


@pytest.fixture(scope="session")
def local_index_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the local index: simple/ pages and packages/ files."""
    return build_index(tmp_path_factory.mktemp("index"), default_cache_dir())


@pytest.fixture(scope="session")
def local_index(local_index_root: Path, engine: Engine) -> Iterator[str]:
    """URL of a PEP 503 index on 127.0.0.1 holding the fixture packages (reach it with
    network = "host"). Requesting it also makes sure of the engine and the toolchain image."""
    with serve_index(local_index_root) as url:
        yield url


ProjectFactory = Callable[..., Path]


def write_project(path: Path, requirements: dict[str, str], **settings: Any) -> Path:
    """A project folder: pyproject.toml with [tool.wheelferry] and requirements/*.in."""
    (path / "requirements").mkdir(parents=True, exist_ok=True)
    for name, text in requirements.items():
        (path / "requirements" / name).write_text(textwrap.dedent(text).lstrip())
    table: dict[str, Any] = {"python": TARGET_PYTHON, "image": TARGET_IMAGE,
             "requirements": [f"requirements/{name}" for name in requirements]}
    table.update(settings)
    overrides: dict[str, dict[str, Any]] = table.pop("overrides", {})
    lines = ["[tool.wheelferry]"]
    lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
    for name, body in overrides.items():
        lines.append(f"\n[tool.wheelferry.overrides.{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in body.items()]
    (path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(value)


@pytest.fixture
def fixture_project(tmp_path: Path, local_index: str) -> ProjectFactory:
    """Make a project that resolves and builds from the local index only."""

    def make(requirements: dict[str, str], **settings: Any) -> Path:
        settings.setdefault("index-url", local_index)
        settings.setdefault("network", "host")
        settings.setdefault("ca-bundle", "none")
        return write_project(tmp_path / "project", requirements, **settings)

    return make
