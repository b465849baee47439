"""Old sdists with today's tools (issue 10, item 5): an sdist that no longer builds with its build
requirements at their newest builds once more with those of its release date (each capped at its
newest release uploaded before the sdist, from the index's JSON simple API), hash-checked, with no
configuration; the output says so and the manifest records the versions used. The fixture index
serves the upload times: wferryfx-buildtool 1.0 (60 days before SOURCE_DATE_EPOCH), the old
sdists (30 days before), wferryfx-buildtool 2.0 (at it), which removed the API they call."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import docker
import pytest
from tests.fixtures.local_index import BOOTSTRAP_UPLOADED, SOURCE_DATE_EPOCH
from tests.support import build_fails, index_project, run_script, wheelferry

pytestmark = pytest.mark.engine

JSON_API = "application/vnd.pypi.simple.v1+json"
# What pip 26 sends for an index page: JSON first, HTML as the fallback.
PIP_ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; "
              "q=0.1, text/html; q=0.01")
OLD_DATE = "2023-10-15"  # SOURCE_DATE_EPOCH (2023-11-14T22:13:20Z) less 30 days
RETRY = "failed with today's build tools; retrying with those of its release date"


def page(url: str, accept: str | None) -> tuple[str, bytes]:
    headers = {"Accept": accept} if accept is not None else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        return response.headers.get("Content-Type", ""), response.read()


def upload_times(index: str, project: str) -> dict[str, str]:
    content_type, body = page(f"{index}{project}/", PIP_ACCEPT)
    assert content_type == JSON_API
    document: dict[str, Any] = json.loads(body)
    assert document["meta"]["api-version"] == "1.1"
    assert document["name"] == project
    for file in document["files"]:
        assert file["url"] == f"../../packages/{file['filename']}"
        assert len(file["hashes"]["sha256"]) == 64
        assert file["size"] > 0
    return {file["filename"]: file["upload-time"] for file in document["files"]}


def built_with(client: docker.DockerClient, wheelhouse: Path, module: str) -> str:
    """What the wheelhouse's build of `module` says it was built with, after an offline install
    of the whole wheelhouse on the target with the network off."""
    script = (
        "set -e; python -m venv /tmp/v; "
        "/tmp/v/bin/pip install --quiet --no-index --find-links /wheelhouse --require-hashes "
        "-r /wheelhouse/wheelferry-requirements.txt; "
        f"/tmp/v/bin/python -c 'import {module} as m; print(\"BUILT-WITH\", m.BUILT_WITH)'"
    )
    code, log = run_script(client, script, network_mode="none",
                           environment={"PIP_CONFIG_FILE": "/dev/null",
                                        "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
                           volumes={str(wheelhouse): {"bind": "/wheelhouse", "mode": "ro"}})
    assert code == 0, log
    return log.split("BUILT-WITH ", 1)[1].strip()


def test_the_index_serves_upload_times_to_json_clients_and_html_to_the_rest(
        local_index: str) -> None:
    assert upload_times(local_index, "wferryfx-buildtool") == {
        "wferryfx_buildtool-1.0-py3-none-any.whl": "2023-09-15T22:13:20.000000Z",
        "wferryfx_buildtool-2.0-py3-none-any.whl": "2023-11-14T22:13:20.000000Z",
    }
    assert upload_times(local_index, "wferryfx-oldsdist") == {
        "wferryfx-oldsdist-1.0.tar.gz": f"{OLD_DATE}T22:13:20.000000Z"}
    assert upload_times(local_index, "wferryfx-pure") == {
        "wferryfx-pure-1.0.tar.gz": "2023-11-14T22:13:20.000000Z"}
    # The bootstrap wheels count as released before every fixture, but for today's setuptools:
    # released after the old sdists, whose day had only the one with pkg_resources.
    assert BOOTSTRAP_UPLOADED < SOURCE_DATE_EPOCH - 60 * 86400
    setuptools = upload_times(local_index, "setuptools")
    assert setuptools.pop("setuptools-80.9.0-py3-none-any.whl").startswith("2022-11-14T")
    assert [time[:10] for time in setuptools.values()] == ["2023-10-25"]
    for accept in (None, "*/*", "text/html", f"{JSON_API}; q=0.1, text/html"):
        content_type, body = page(f"{local_index}wferryfx-buildtool/", accept)
        assert content_type.startswith("text/html"), accept
        assert b"wferryfx_buildtool-2.0-py3-none-any.whl#sha256=" in body
    content_type, body = page(local_index, JSON_API)
    assert content_type == JSON_API
    assert {"name": "wferryfx-oldsdist"} in json.loads(body)["projects"]


def test_an_old_sdist_builds_with_the_build_tools_of_its_date(
        local_index: str, tmp_path: Path, docker_client: docker.DockerClient) -> None:
    project = index_project(tmp_path / "project", local_index,
                            "wferryfx-oldsdist\nwferryfx-pure\n")
    run = wheelferry("build", project=project)
    assert run.returncode == 0, run.stderr
    output = run.stdout + run.stderr
    assert f"==> wferryfx-oldsdist: {RETRY} ({OLD_DATE}): setuptools==" in output
    assert "wferryfx-buildtool==1.0" in output
    assert f"built (build tools of {OLD_DATE})" in output  # its row in the build summary
    assert output.count(RETRY) == 1  # wferryfx-pure built at once

    wheelhouse = project / "wheelhouse"
    manifest = json.loads((wheelhouse / "wheelferry-manifest.json").read_text())
    records = {record["name"]: record for record in manifest["wheels"]}
    old = records["wferryfx-oldsdist"]
    assert old["origin"] == "built"
    assert old["sdist"]["file"] == "wferryfx-oldsdist-1.0.tar.gz"
    dated = old["dated_build_requires"]
    assert "wferryfx-buildtool==1.0" in dated
    assert [pin.split("==")[0] for pin in dated] == ["setuptools", "wferryfx-buildtool", "wheel"]
    assert records["wferryfx-pure"]["dated_build_requires"] == []

    # The wheel is the one its build tools of 2023 make, and it installs and imports on the
    # target with the network off.
    assert built_with(docker_client, wheelhouse, "wferryfx_oldsdist") == "wferryfx-buildtool 1.0"


def test_an_old_sdist_that_fails_with_the_tools_of_its_date_too_is_named(
        local_index: str, tmp_path: Path) -> None:
    project = index_project(tmp_path / "project", local_index, "wferryfx-oldbroken\n")
    err = build_fails(project, code=5, says=[
        f"==> wferryfx-oldbroken: {RETRY} ({OLD_DATE})",
        "wferryfx-oldbroken==1.0 failed while building its wheel, with today's build tools and "
        f"with those of its release date ({OLD_DATE}: setuptools==",
        "wferryfx-buildtool==1.0",
        "The end of its log",
    ])
    # The log's tail shows why the retry failed too: its own C extension.
    tail = err.split("The end of its log:", 1)[1]
    assert "this extension does not compile" in tail
    assert not (project / "wheelhouse").exists()


LOCK_RETRY = ("preparing its metadata failed with today's build tools; retrying with those of its "
              "release date")


@pytest.mark.parametrize("resolver", ["pip-compile", "uv"])
def test_an_old_sdist_whose_metadata_needs_the_tools_of_its_date_locks_and_builds(
        local_index: str, tmp_path: Path, docker_client: docker.DockerClient,
        resolver: str) -> None:
    # Its setup.py calls the removed API whenever it runs. pip-compile runs it to prepare the
    # metadata, so the lock itself fails with today's tools and the retry happens while locking;
    # uv reads the sdist's static metadata (PKG-INFO) and needs no retry. Building retries.
    project = index_project(tmp_path / "project", local_index,
                            "wferryfx-oldmeta\nwferryfx-pure\n", resolver=resolver)
    run = wheelferry("build", project=project)
    assert run.returncode == 0, run.stdout + run.stderr
    output = run.stdout + run.stderr
    lock_retry = f"==> wferryfx-oldmeta: {LOCK_RETRY} ({OLD_DATE}): setuptools=="
    assert (lock_retry in output) == (resolver == "pip-compile")
    assert "uv could not lock" not in output
    assert f"==> wferryfx-oldmeta: {RETRY} ({OLD_DATE})" in output
    lock = (project / "requirements" / "base.txt").read_text()
    assert "wferryfx-oldmeta==1.0 \\" in lock
    assert "wferryfx-pure==1.0 \\" in lock
    # Only the locks' own pins: the build tools of its day are not part of the project's lock.
    assert "wferryfx-buildtool" not in lock

    wheelhouse = project / "wheelhouse"
    assert built_with(docker_client, wheelhouse, "wferryfx_oldmeta") == "wferryfx-buildtool 1.0"
