"""toolchainspecs: index credentials kept out of the committed toolchain image. Specs only, no
engine."""

from __future__ import annotations

from pathlib import Path

from tests.support import write_project

from wheelferry.engine.client import ImageInfo
from wheelferry.engine.toolchainspecs import toolchain_pip_conf, toolchain_spec
from wheelferry.project.config import load_options


def test_index_credentials_stay_in_the_mounted_pip_conf(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"base.in": "six\n"},
                            **{"index-url": "https://user:s3cret@mirror.example/simple",
                               "ca-bundle": "none"})
    options = load_options(project)
    conf = toolchain_pip_conf(options.index)
    assert "index-url = https://user:s3cret@mirror.example/simple" in conf
    base = ImageInfo(reference="python:3.10", id="sha256:" + "0" * 64, digest="d")
    spec = toolchain_spec(options.target, options.index, base.id, tmp_path / "settings",
                          {"pip": "24.0", "pip-tools": "7.4.1", "uv": "0.5.0"})
    assert "s3cret" not in " ".join(spec.command)
    assert all("s3cret" not in value for _, value in spec.environment)
    assert any(m.target == "/wheelferry/settings" and m.read_only for m in spec.mounts)
