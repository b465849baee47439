"""containers: what each container runs, sees, may reach, and as whom. Specs only, no engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support import project_options

from wheelferry.engine import specs as containers
from wheelferry.engine.client import ContainerSpec
from wheelferry.engine.specs import cache_record
from wheelferry.project.options import Options


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Options:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # pip's cache, mounted
    return project_options(tmp_path, {"base.in": "wferryfx-pure\n"},
                           **{"index-url": "http://127.0.0.1:8080/simple/", "network": "host"})


def online_specs(options: Options) -> list[ContainerSpec]:
    out = options.project_dir / ".wheelferry" / "lock-0123456789ab"
    toolchain = "wheelferry-toolchain:x"
    return [containers.lock_spec(options.target, options.index, toolchain=toolchain, out=out),
            containers.build_spec(options.target, options.index, toolchain=toolchain, out=out)]


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
    spec = containers.probe_spec(options.target, "sha256:" + "0" * 64)
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
