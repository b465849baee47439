"""optiongroups: each group parsed on its own from the raw table, its choices checked once and
its defaults documented; a bad value names the key and the file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from wheelferry.core.errors import ConfigError
from wheelferry.project.optiongroups import (
    Source,
    parse_build,
    parse_index,
    parse_install_dir,
    parse_platform,
    parse_proof,
    parse_target,
)
from wheelferry.project.options import (
    DEFAULT_INSTALL_DIR,
    BuildOptions,
    IndexOptions,
    PlatformOptions,
    ProofOptions,
    TargetOptions,
)

WHERE = "in [tool.wheelferry] of /p/pyproject.toml"


@pytest.fixture
def source(tmp_path: Path) -> Source:
    return Source(project_dir=tmp_path, where=WHERE)


def test_an_empty_table_gives_each_groups_defaults(source: Source) -> None:
    assert parse_target({}, source) == TargetOptions()
    assert parse_index({"ca-bundle": "none"}, source) == IndexOptions()
    assert parse_platform({}, source, install_dir=DEFAULT_INSTALL_DIR) == PlatformOptions()
    assert parse_build({}, source) == BuildOptions()
    assert parse_proof({}, source, skip_imports=()) == ProofOptions()
    assert TargetOptions().image == "python:3.10"


def test_the_target_knows_its_engine_platform_and_version(source: Source) -> None:
    target = parse_target({"python": "3.12", "arch": "aarch64"}, source)
    assert target == TargetOptions(python="3.12", image="python:3.12", arch="aarch64")
    assert target.engine_platform == "linux/arm64"
    assert target.python_tuple == (3, 12)


@pytest.mark.parametrize(("key", "parse", "value", "choices"), [
    ("arch", parse_target, "arm64", "x86_64, aarch64"),
    ("network", parse_index, "none", "bridge, host"),
    ("resolver", parse_build, "poetry", "uv, pip-compile"),
])
def test_a_choice_outside_its_literal_names_the_key_the_file_and_the_choices(
        source: Source, key: str, parse: Callable[[Mapping[str, Any], Source], object],
        value: str, choices: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse({key: value, "ca-bundle": "none"}, source)
    assert info.value.message == (f"key '{key}' {WHERE} must be one of {choices}, "
                                  f"not {value!r}.")


def test_platform_from_image_only_when_provided_is_auto(source: Source) -> None:
    with_image = parse_platform({"platform-image": "site/ws:1"}, source, install_dir="~")
    assert with_image.provided_from_image
    assert (with_image.image, with_image.install_dir) == ("site/ws:1", "~")
    assert not parse_platform({"platform-image": "site/ws:1", "provided": "none"}, source,
                              install_dir="~").provided_from_image
    replaced = parse_platform({"replace-provided": ["NumPy", "numpy", "Pillow"]}, source,
                              install_dir="~")
    assert replaced.replace_provided == ("numpy", "pillow")


def test_install_dir_must_be_a_platform_path(source: Source) -> None:
    assert parse_install_dir({}, source) == DEFAULT_INSTALL_DIR
    with pytest.raises(ConfigError, match="key 'install-dir'"):
        parse_install_dir({"install-dir": "tools"}, source)


def test_the_build_group_holds_the_configured_overrides(source: Source) -> None:
    build = parse_build({"system-packages": ["libpq-dev", "libpq-dev"], "overrides": {
        "PyRadiomics": {"build-requires": ["numpy"], "no-build-isolation": True}}}, source)
    assert build.system_packages == ("libpq-dev",)
    override = build.configured("pyradiomics")
    assert override is not None
    assert [str(r) for r in override.build_requires] == ["numpy"]
    assert build.configured("numpy") is None


def test_the_proof_group_reads_a_smoke_test_file_of_the_project(source: Source) -> None:
    (source.project_dir / "smoke.py").write_text("import six\n")
    proof = parse_proof({"smoke-test": "smoke.py", "allowed-licenses": [" MIT "]}, source,
                        skip_imports=("tests",))
    assert proof == ProofOptions(skip_imports=("tests",), smoke_test="import six\n",
                                 smoke_test_file=(source.project_dir / "smoke.py").resolve(),
                                 allowed_licenses=("MIT",))
