"""target: the target's wheel tags as the probe reports them, and which wheel files it can
install. No engine."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from tests.support import project_options

from wheelferry.core.files import remember_json
from wheelferry.engine.client import ImageInfo
from wheelferry.target.image import _cached_probe, _probe_cache, compatible, tag_set
from wheelferry.target.probe_report import Interpreter

# What the probe of a CPython 3.10 manylinux x86_64 image reports (a few of its tags).
TARGET_TAGS = tag_set(["cp310-cp310-manylinux_2_36_x86_64", "cp310-cp310-manylinux_2_17_x86_64",
                       "cp310-cp310-manylinux2014_x86_64", "cp310-cp310-linux_x86_64",
                       "cp310-abi3-manylinux_2_17_x86_64", "cp39-abi3-manylinux_2_17_x86_64",
                       "cp310-none-any", "py3-none-any"])


def test_tag_set_expands_compressed_tags() -> None:
    tags = tag_set(["py2.py3-none-any", "cp310-cp310-manylinux_2_17_x86_64"])
    assert {str(tag) for tag in tags} == {"py2-none-any", "py3-none-any",
                                          "cp310-cp310-manylinux_2_17_x86_64"}


@pytest.mark.parametrize(
    "wheel",
    [
        "numpy-1.26.4-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "wferryfx_legacy-1.0-cp310-cp310-linux_x86_64.whl",
        "cryptography-42.0.5-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "six-1.16.0-py2.py3-none-any.whl",
        "wferryfx_pure-1.0-py3-none-any.whl",
    ],
)
def test_wheels_for_the_target_are_compatible(wheel: str) -> None:
    assert compatible(wheel, TARGET_TAGS)


@pytest.mark.parametrize(
    "wheel",
    [
        "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "numpy-1.26.4-cp310-cp310-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
        "numpy-1.26.4-cp310-cp310-win_amd64.whl",
        "numpy-1.26.4-cp310-cp310-macosx_11_0_arm64.whl",
        "numpy-1.26.4-cp310-cp310-musllinux_1_1_x86_64.whl",
        "futures-3.0.5-py2-none-any.whl",
    ],
)
def test_wheels_for_another_python_or_platform_are_not(wheel: str) -> None:
    assert not compatible(wheel, TARGET_TAGS)


def test_a_probe_is_remembered_per_image_id_and_machine(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    options = project_options(tmp_path, {"base.in": "six\n"})
    image = ImageInfo(reference="python:3.10", id="sha256:" + "1" * 64, digest="d")
    assert _cached_probe(options, image) is None
    found = json.dumps({"version": "3.10.13", "implementation": "cpython",
                        "machine": "x86_64", "tags": ["cp310-cp310-manylinux_2_17_x86_64"]})
    remember_json(_probe_cache(options, image), json.loads(found))
    assert _cached_probe(options, image) == Interpreter(
        version="3.10.13", implementation="cpython", machine="x86_64",
        tags=("cp310-cp310-manylinux_2_17_x86_64",))
    # Another image, or the same one run as another machine, is probed afresh.
    other = ImageInfo(reference="python:3.10", id="sha256:" + "2" * 64, digest="d")
    assert _cached_probe(options, other) is None
    arm = replace(options, target=replace(options.target, arch="aarch64"))
    assert _cached_probe(arm, image) is None
    # A damaged record is never used.
    _probe_cache(options, image).write_text('{"version": "3.10.13"')
    assert _cached_probe(options, image) is None
    _probe_cache(options, image).write_text('{"version": "3.10.13"}')
    assert _cached_probe(options, image) is None
