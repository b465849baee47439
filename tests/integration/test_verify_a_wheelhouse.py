"""`wheelferry verify` against real wheelhouses: static checks name every damaged, missing or
stray file, and the offline proof in a fresh target container catches an extension built
against the wrong ABI even when every checksum agrees."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from tests.support import LEGACY_OVERRIDE, built_project, copy_project, wheelferry

from wheelferry.core.files import sha256_file
from wheelferry.engine.client import Engine
from wheelferry.project import manifest as mf

pytestmark = pytest.mark.engine

VERIFY_EXIT = 6


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, local_index: str, engine: Engine) -> Path:
    """One real build: a dependency chain, a C extension and a legacy setup.py (ABI 2)."""
    return built_project(tmp_path_factory.mktemp("verify-built"), local_index,
                         "wferryfx-needs-pure\nwferryfx-cext\nwferryfx-legacy\n",
                         overrides=LEGACY_OVERRIDE)


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built project, for a test that damages it."""
    return copy_project(built, tmp_path)


def wheel_file(project: Path, name: str) -> Path:
    manifest = mf.read_manifest(project / "wheelhouse")
    assert manifest is not None
    record = manifest.wheel(name)
    assert record is not None, f"{name} not in the manifest"
    return project / "wheelhouse" / record.file


def test_clean_wheelhouse_is_proven(project: Path) -> None:
    done = wheelferry("verify", project=project)
    assert done.returncode == 0, done.stderr
    assert "proven: the wheelhouse installs offline" in done.stderr
    # The proof imported the top-level module of every distribution it installed.
    for module, dist in (("wferryfx_cext", "wferryfx-cext"), ("wferryfx_legacy", "wferryfx-legacy"),
                         ("wferryfx_needs_pure", "wferryfx-needs-pure"),
                         ("wferryfx_pure", "wferryfx-pure"),
                         ("wferryfx_tomlish", "wferryfx-tomlish"),
                         ("wferryfx_buildhelper", "wferryfx-buildhelper")):
        assert f"$ import {module}  ({dist}): ok" in done.stderr, done.stderr


def test_static_verify_needs_no_engine(project: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    done = wheelferry("verify", "--static", project=project, env=env)
    assert done.returncode == 0, done.stderr
    assert "wheels match SHA256SUMS, the manifest and the locks" in done.stderr
    assert "proven" not in done.stderr
    # The same environment really cannot reach an engine: the full verify fails with an
    # engine error, so the static pass above did not touch it.
    full = wheelferry("verify", project=project, env=env)
    assert full.returncode == 3, full.stderr


def test_one_changed_byte_is_named(project: Path) -> None:
    wheel = wheel_file(project, "wferryfx-cext")
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0x01
    wheel.write_bytes(bytes(data))
    done = wheelferry("verify", "--static", project=project)
    assert done.returncode == VERIFY_EXIT, done.stderr
    assert f"{wheel.name}: does not match its checksum in SHA256SUMS" in done.stderr
    # The full verify refuses before starting any container.
    full = wheelferry("verify", project=project)
    assert full.returncode == VERIFY_EXIT, full.stderr
    assert wheel.name in full.stderr
    assert "installing offline" not in full.stderr


def test_missing_wheel_is_named(project: Path) -> None:
    wheel = wheel_file(project, "wferryfx-pure")
    wheel.unlink()
    done = wheelferry("verify", project=project)
    assert done.returncode == VERIFY_EXIT, done.stderr
    assert f"{wheel.name}: listed in SHA256SUMS but missing" in done.stderr


def test_stray_file_is_named(project: Path) -> None:
    stray = project / "wheelhouse" / "notes.txt"
    stray.write_text("left here by hand\n")
    done = wheelferry("verify", project=project)
    assert done.returncode == VERIFY_EXIT, done.stderr
    assert "notes.txt: stray file" in done.stderr


def test_a_changed_build_lock_is_named(project: Path) -> None:
    build_lock = project / "requirements" / "wheelferry-build.txt"
    build_lock.write_text(build_lock.read_text() + "# edited by hand\n")
    done = wheelferry("verify", "--static", project=project)
    assert done.returncode == VERIFY_EXIT, done.stderr
    assert "requirements/wheelferry-build.txt: the overrides' build lock" in done.stderr


def test_extension_built_against_another_abi_fails_the_proof(
        project: Path, tmp_path: Path, local_index: str) -> None:
    # A second project pins the build helper at 1.0, so its legacy wheel is compiled for ABI 1.
    abi1 = built_project(tmp_path / "abi1", local_index,
                         "wferryfx-legacy\nwferryfx-buildhelper==1.0\n", overrides=LEGACY_OVERRIDE)
    abi1_wheel = wheel_file(abi1, "wferryfx-legacy")
    abi2_wheel = wheel_file(project, "wferryfx-legacy")
    assert abi1_wheel.name == abi2_wheel.name
    assert abi1_wheel.read_bytes() != abi2_wheel.read_bytes(), "the pip cache reused a wheel"
    # Swap it in and make SHA256SUMS, the manifest and the install requirements agree with it:
    # only the install proof can tell.
    shutil.copyfile(abi1_wheel, abi2_wheel)
    house = project / "wheelhouse"
    manifest = mf.read_manifest(house)
    assert manifest is not None
    wheels = tuple(
        replace(w, sha256=sha256_file(abi2_wheel), size=abi2_wheel.stat().st_size)
        if w.name == "wferryfx-legacy" else w for w in manifest.wheels)
    mf.write_metadata(house, replace(manifest, wheels=wheels))
    static = wheelferry("verify", "--static", project=project)
    assert static.returncode == 0, static.stderr

    done = wheelferry("verify", project=project)
    assert done.returncode == VERIFY_EXIT, done.stderr
    assert "import wferryfx_legacy: (wferryfx-legacy) ImportError: wferryfx_legacy was built " \
           "against wferryfx-buildhelper ABI 1 but ABI 2 is installed" in done.stderr
    assert "problem(s) in the offline install proof" in done.stderr
