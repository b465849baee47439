"""Test bed: isolation from the host's pip configuration, the engine, the local index.

Integration tests need a real engine and the target image; scripts/test.sh provisions both. They
fail (not skip) when the engine is missing, so a green run always exercised real containers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.fixtures import session
from tests.fixtures.local_index import build_index, default_cache_dir, serve_index
from tests.support import TARGET_IMAGE, ensure_toolchain
from wheelferry.building.wheelcache import ENV as WHEEL_CACHE_ENV
from wheelferry.engine.client import DockerEngine


def pytest_configure(config: pytest.Config) -> None:
    # The host's pip configuration (extra indexes, constraints, find-links) must not leak into
    # anything the tests run; the CA bundle it points at is kept for the few public-index tests.
    for name in list(os.environ):
        if name.startswith("PIP_"):
            del os.environ[name]
    os.environ["PIP_CONFIG_FILE"] = os.devnull
    os.environ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # wheelferry's wheel cache (built wheels shared by projects) is the test's own: see
    # _a_wheel_cache_of_its_own. Outside a test (fixtures shared by several), none.
    os.environ[WHEEL_CACHE_ENV] = "off"


@pytest.fixture(scope="session", autouse=True)
def _session_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Recorded first: the containers the tests make outside wheelferry are labelled with it."""
    os.environ[session.VARIABLE] = str(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    try:
        # Its containers are labelled with this session's folder, as a command's are with its
        # project's: see _no_container_left_behind.
        connected = DockerEngine.connect(project=tmp_path_factory.getbasetemp())
    except Exception as exc:
        pytest.fail(f"no container engine: {exc}. Run the tests with scripts/test.sh, which "
                    "starts one.", pytrace=False)
    if connected.image(TARGET_IMAGE) is None:
        pytest.fail(f"image {TARGET_IMAGE} is missing; scripts/test.sh provisions it.",
                    pytrace=False)
    ensure_toolchain(connected, tmp_path_factory.mktemp("toolchain"))
    yield connected
    connected.close()


@pytest.fixture(scope="session")
def _wheel_caches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wheel-caches")


@pytest.fixture(autouse=True)
def _a_wheel_cache_of_its_own(_wheel_caches: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with an empty wheel cache of its own (wheelferry creates the folder when
    it first stores a wheel): a wheel another test built never stands in for a build that a test
    expects (a compile to interrupt, a failure to see). pip's cache stays shared, for speed."""
    monkeypatch.setenv(WHEEL_CACHE_ENV, str(_wheel_caches / uuid.uuid4().hex[:12]))


@pytest.fixture(autouse=True)
def _no_container_left_behind(request: pytest.FixtureRequest,
                              tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every engine test leaves no wheelferry container behind, running or stopped. Containers
    that existed before the test are not its doing; nor are those labelled with a project
    outside this session's base folder (another session's on the same engine: a corpus run,
    pytest-xdist's other worker): every project a test makes, and the session's own engine,
    live under it."""
    if request.node.get_closest_marker("engine") is None:
        yield
        return
    engine: DockerEngine = request.getfixturevalue("engine")
    mine = tmp_path_factory.getbasetemp().resolve()
    before = set(engine.leftover_containers())
    yield
    left = [name for name, project in engine.leftover_containers().items()
            if name not in before and (project is None or project.is_relative_to(mine))]
    assert not left, f"containers left behind: {left}"


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """The Docker SDK's own client, for tests that look at or run containers outside
    wheelferry."""
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture(scope="session")
def local_index_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the local index: simple/ pages and packages/ files."""
    return build_index(tmp_path_factory.mktemp("index"), default_cache_dir())


@pytest.fixture(scope="session")
def local_index(local_index_root: Path, engine: DockerEngine) -> Iterator[str]:
    """URL of a PEP 503 index on 127.0.0.1 holding the fixture packages (reach it with
    network = "host"). Requesting it also makes sure of the engine and the toolchain image."""
    with serve_index(local_index_root) as url:
        yield url


@pytest.fixture(scope="session")
def platform_image(local_index_root: Path, engine: DockerEngine) -> str:
    """Reference of the platform replica image (tests/fixtures/platform_replica.py): CPython
    3.10 with a provided stack installed as root, user chaimeleon (uid 1000), the init.sh
    entrypoint, no compiler. Built from the local index's dists once, then reused while its
    inputs are unchanged."""
    from tests.fixtures.platform_replica import ensure_platform_image

    return ensure_platform_image(local_index_root / "packages")
