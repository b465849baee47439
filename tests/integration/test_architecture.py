"""The platform's machine (`arch`): every container runs as it, the image and the probe must
agree with it before anything is built, and a machine this engine cannot run (no emulation) is
refused with how to enable it. Locks and manifests record it."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from tests.support import build_fails, index_project, wheelferry, write_project

pytestmark = pytest.mark.engine

ARM64_IMAGE = "wheelferry-test-arm64:1"


def aarch64_elf() -> bytes:
    """An ELF header for an AArch64 executable (e_machine 183): a kernel without emulation
    for that machine refuses to run it ('exec format error'), as it refuses any foreign
    program."""
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header += struct.pack("<HHIQQQIHHHHHH", 2, 183, 1, 0x400078, 64, 0, 0, 64, 56, 1, 64, 0, 0)
    program = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 0x80, 0x80, 0x1000)
    return header + program + bytes(8)


@pytest.fixture(scope="module")
def arm64_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """An image for linux/arm64 whose python3 is a foreign program (imported, no registry)."""
    if Path("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists():
        pytest.fail("this host emulates aarch64 (binfmt qemu-aarch64): the refusal this module "
                    "tests cannot happen here")
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        for folder in ("usr", "usr/bin", "tmp"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        program = aarch64_elf()
        info = tarfile.TarInfo("usr/bin/python3")
        info.size, info.mode = len(program), 0o755
        tar.addfile(info, io.BytesIO(program))
    # An image archive as `docker save` writes it, whose config says arm64 (`docker load`
    # takes it as it is; no registry, no multi-platform engine needed).
    layer_bytes = layer.getvalue()
    config = json.dumps({
        "architecture": "arm64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers",
                   "diff_ids": [f"sha256:{hashlib.sha256(layer_bytes).hexdigest()}"]},
    }).encode()
    config_name = f"{hashlib.sha256(config).hexdigest()}.json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [ARM64_IMAGE],
                            "Layers": ["layer/layer.tar"]}]).encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, data in ((config_name, config), ("layer/layer.tar", layer_bytes),
                           ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    done = subprocess.run(["docker", "load"], input=archive.getvalue(), capture_output=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert docker_client.images.get(ARM64_IMAGE).attrs["Architecture"] == "arm64"
    yield ARM64_IMAGE
    docker_client.images.remove(ARM64_IMAGE, force=True)


def test_the_default_machine_is_recorded_in_the_lock_and_the_manifest(
        tmp_path: Path, local_index: str) -> None:
    project = index_project(tmp_path / "project", local_index, "wferryfx-pure\n")
    done = wheelferry("build", project=project)
    assert done.returncode == 0, done.stderr
    header = (project / "requirements" / "base.txt").read_text().splitlines()[0]
    assert " arch=x86_64 " in header
    manifest = json.loads((project / "wheelhouse" / "wheelferry-manifest.json").read_text())
    assert manifest["target"]["arch"] == "x86_64"
    assert "on x86_64." in done.stderr
    # Another machine makes the lock stale, and says why.
    status = wheelferry("status", "--arch", "aarch64", project=project)
    assert "stale: the lock was made for x86_64" in status.stdout


def test_an_image_for_another_machine_is_refused_before_anything_is_written(
        tmp_path: Path, local_index: str) -> None:
    project = index_project(tmp_path / "project", local_index, "wferryfx-pure\n",
                            arch="aarch64")
    build_fails(project, code=3, says=["'python:3.10' is for x86_64", "arch is aarch64",
                                       "docker pull --platform linux/arm64"])
    assert not (project / "requirements" / "base.txt").exists()


def test_a_machine_the_engine_cannot_run_names_how_to_enable_emulation(
        tmp_path: Path, arm64_image: str) -> None:
    project = write_project(tmp_path / "project", {"base.in": "six\n"},
                            **{"image": arm64_image, "arch": "aarch64", "ca-bundle": "none"})
    stderr = build_fails(project, code=3, says=["exec format error", "linux/arm64",
                                                "qemu-user-static", "Rosetta"])
    assert "Nothing was written" in stderr
    assert not (project / "requirements" / "base.txt").exists()
