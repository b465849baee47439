"""containers: what each container runs, sees, may reach, and as whom; index credentials kept
out of the toolchain image. Specs only, no engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support import project_options, write_project

from wheelferry.engine import specs as containers
from wheelferry.engine.client import ContainerSpec, ImageInfo
from wheelferry.engine.specs import cache_record, toolchain_pip_conf, toolchain_spec
from wheelferry.project.config import Options, load_options


def test_index_credentials_stay_in_the_mounted_pip_conf(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"base.in": "six\n"},
                            **{"index-url": "https://user:s3cret@mirror.example/simple",
                               "ca-bundle": "none"})
    options = load_options(project)
    conf = toolchain_pip_conf(options)
    assert "index-url = https://user:s3cret@mirror.example/simple" in conf
    base = ImageInfo(reference="python:3.10", id="sha256:" + "0" * 64, digest="d")
    spec = toolchain_spec(options, base.id, tmp_path / "settings",
                          {"pip": "24.0", "pip-tools": "7.4.1", "uv": "0.5.0"})
    assert "s3cret" not in " ".join(spec.command)
    assert all("s3cret" not in value for _, value in spec.environment)
    assert any(m.target == "/wheelferry/settings" and m.read_only for m in spec.mounts)


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Options:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # pip's cache, mounted
    return project_options(tmp_path, {"base.in": "wferryfx-pure\n"},
                           **{"index-url": "http://127.0.0.1:8080/simple/", "network": "host"})


def online_specs(options: Options) -> list[ContainerSpec]:
    out = options.project_dir / ".wheelferry" / "lock-0123456789ab"
    return [containers.lock_spec(options, toolchain="wheelferry-toolchain:x", out=out),
            containers.build_spec(options, toolchain="wheelferry-toolchain:x", out=out)]


def test_lock_and_build_containers_never_see_the_project(options: Options) -> None:
    project = options.project_dir
    for spec in online_specs(options):
        sources = [mount.source for mount in spec.mounts]
        # Not the project, nor a folder holding it: only the run's own scratch folder in it.
        assert not [s for s in sources if s == project or s in project.parents], spec.purpose
        writable = {mount.target for mount in spec.mounts if not mount.read_only}
        assert writable == {containers.OUT_MOUNT, containers.CACHE_MOUNT}, spec.purpose
        assert not [s for s in sources if "docker.sock" in str(s)]
        assert spec.user is None, "the invoking user, so that what it writes is theirs"


def test_lock_and_build_containers_reach_only_the_configured_index(options: Options) -> None:
    for spec in online_specs(options):
        environment = dict(spec.environment)
        assert spec.network == "host"
        assert environment["PIP_CONFIG_FILE"] == "/dev/null"
        assert environment["PIP_INDEX_URL"] == "http://127.0.0.1:8080/simple/"
        assert "PIP_EXTRA_INDEX_URL" not in environment
        # ca-bundle = "none": the image's own bundle, nothing mounted for it.
        assert "PIP_CERT" not in environment
        assert containers.CA_MOUNT not in {mount.target for mount in spec.mounts}


def test_the_probe_has_no_network_and_nothing_writable(options: Options) -> None:
    spec = containers.probe_spec(options, "sha256:" + "0" * 64)
    assert spec.network == "none"
    assert all(mount.read_only for mount in spec.mounts)
    environment = dict(spec.environment)
    assert environment["PIP_NO_INDEX"] == "1"
    assert "PIP_INDEX_URL" not in environment


def test_a_cache_record_is_named_by_its_whole_key(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    record = cache_record("probes", "sha256:" + "1" * 64, "linux/amd64")
    assert record.parent == tmp_path / "wheelferry" / "probes"
    assert record == cache_record("probes", "sha256:" + "1" * 64, "linux/amd64")
    assert record != cache_record("probes", "sha256:" + "1" * 64, "linux/arm64")
    assert record != cache_record("upstream", "sha256:" + "1" * 64, "linux/amd64")
