"""The test bed's own fixture index (tests/fixtures): reproducible, laid out as PEP 503 wants,
and usable by pip in a python:3.10 container."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import docker
import pytest
from tests.fixtures.local_index import build_index, default_cache_dir
from tests.support import run_script

CONTAINER_ENV = {"PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

pytestmark = pytest.mark.engine


def run_in_container(client: docker.DockerClient, script: str) -> tuple[int, str]:
    """Run a bash script in the target image with host networking (the index listens on the
    host's loopback); return (exit code, output)."""
    return run_script(client, script, network_mode="host", environment=CONTAINER_ENV)


def test_index_layout(local_index: str) -> None:
    with urllib.request.urlopen(local_index + "wferryfx-buildhelper/") as response:
        page = response.read().decode()
    assert "wferryfx_buildhelper-1.0-py3-none-any.whl#sha256=" in page
    assert "wferryfx_buildhelper-2.0-py3-none-any.whl#sha256=" in page
    with urllib.request.urlopen(local_index) as response:
        root_page = response.read().decode()
    for project in ("setuptools", "wheel", "wferryfx-legacy", "wferryfx-needs-pure"):
        assert f'href="{project}/"' in root_page


def test_build_index_is_reproducible(local_index_root: Path, tmp_path: Path) -> None:
    # The session's index and one built again from scratch: byte for byte the same.
    first = local_index_root / "packages"
    second = build_index(tmp_path / "again", default_cache_dir()) / "packages"
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_container_installs_sdists_from_local_index(
        local_index: str, docker_client: docker.DockerClient) -> None:
    check = (
        "import wferryfx_cext, wferryfx_needs_pure, wferryfx_pure, wferryfx_tomlish; "
        "assert wferryfx_cext.add(2, 3) == 5; "
        "assert wferryfx_pure.VALUE == 'pure'; "
        "assert wferryfx_needs_pure.TOMLISH_VALUE == 'tomlish'; "
        "print('IMPORTS-OK')"
    )
    script = (
        "set -e; python -m venv /tmp/v; "
        f"/tmp/v/bin/pip install --index-url {local_index} wferryfx-needs-pure wferryfx-cext; "
        f'/tmp/v/bin/python -c "{check}"; '
        "/tmp/v/bin/pip list"
    )
    code, output = run_in_container(docker_client, script)
    assert code == 0, output
    assert "IMPORTS-OK" in output
    # The marker python_version < "3.11" was evaluated for the container's 3.10.
    assert "wferryfx-tomlish" in output


def test_legacy_sdist_fails_under_build_isolation(
        local_index: str, docker_client: docker.DockerClient) -> None:
    code, output = run_in_container(
        docker_client, f"pip wheel --index-url {local_index} -w /tmp/wheels wferryfx-legacy"
    )
    assert code != 0, output
    assert "ModuleNotFoundError: No module named 'wferryfx_buildhelper'" in output
