"""The test bed's local package index works from a python:3.10 container."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from tests.fixtures.local_index import build_index, default_cache_dir, serve_index

IMAGE = "python:3.10"
CONTAINER_ENV = {"PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

pytestmark = pytest.mark.engine


@pytest.fixture(scope="session")
def local_index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = build_index(tmp_path_factory.mktemp("local-index"), default_cache_dir())
    with serve_index(root) as url:
        yield url


def run_in_container(script: str, timeout: int = 600) -> tuple[int, str]:
    """Run a bash script in IMAGE with host networking; return (exit code, output)."""
    client = docker.from_env()
    container = client.containers.run(
        IMAGE,
        ["bash", "-c", script],
        network_mode="host",
        environment=CONTAINER_ENV,
        detach=True,
    )
    try:
        status = container.wait(timeout=timeout)
        output: bytes = container.logs(stdout=True, stderr=True)
        return int(status["StatusCode"]), output.decode("utf-8", "replace")
    finally:
        container.remove(force=True)
        client.close()


def test_index_layout(local_index_url: str) -> None:
    with urllib.request.urlopen(local_index_url + "wferryfx-buildhelper/") as response:
        page = response.read().decode()
    assert "wferryfx_buildhelper-1.0-py3-none-any.whl#sha256=" in page
    assert "wferryfx_buildhelper-2.0-py3-none-any.whl#sha256=" in page
    with urllib.request.urlopen(local_index_url) as response:
        root_page = response.read().decode()
    for project in ("setuptools", "wheel", "wferryfx-legacy", "wferryfx-needs-pure"):
        assert f'href="{project}/"' in root_page


def test_build_index_is_reproducible(tmp_path: Path) -> None:
    first = build_index(tmp_path / "a", default_cache_dir()) / "packages"
    second = build_index(tmp_path / "b", default_cache_dir()) / "packages"
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_container_installs_sdists_from_local_index(local_index_url: str) -> None:
    check = (
        "import wferryfx_cext, wferryfx_needs_pure, wferryfx_pure, wferryfx_tomlish; "
        "assert wferryfx_cext.add(2, 3) == 5; "
        "assert wferryfx_pure.VALUE == 'pure'; "
        "assert wferryfx_needs_pure.TOMLISH_VALUE == 'tomlish'; "
        "print('IMPORTS-OK')"
    )
    script = (
        "set -e; python -m venv /tmp/v; "
        f"/tmp/v/bin/pip install --index-url {local_index_url} wferryfx-needs-pure wferryfx-cext; "
        f'/tmp/v/bin/python -c "{check}"; '
        "/tmp/v/bin/pip list"
    )
    code, output = run_in_container(script)
    assert code == 0, output
    assert "IMPORTS-OK" in output
    # The marker python_version < "3.11" was evaluated for the container's 3.10.
    assert "wferryfx-tomlish" in output


def test_legacy_sdist_fails_under_build_isolation(local_index_url: str) -> None:
    code, output = run_in_container(
        f"pip wheel --index-url {local_index_url} -w /tmp/wheels wferryfx-legacy"
    )
    assert code != 0, output
    assert "ModuleNotFoundError: No module named 'wferryfx_buildhelper'" in output
