"""Sdists that need a C library (issue 18, items 1 and 2): wferryfx-sysdep's extension links
libsodium, an OS library that neither the build image nor the platform replica has. Without
`system-packages` the build names the setting to add; with it, the library's package is installed
in the build container with the image's own package manager, the wheel carries the library
(auditwheel), the manifest says what was installed and carried, and the wheel works on a desktop
start of the replica, which lacks the library."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.platform_replica import HOME, Bind, run_in_replica
from tests.support import build_fails, index_project, wheelferry

pytestmark = pytest.mark.engine


def records(project: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((project / "wheelhouse" / "wheelferry-manifest.json").read_text())
    return {record["name"]: record for record in manifest["wheels"]}


def test_a_c_library_from_the_os_builds_travels_in_the_wheel_and_works_where_it_is_missing(
        local_index: str, platform_image: str, tmp_path: Path) -> None:
    project = index_project(tmp_path / "project", local_index, "wferryfx-sysdep\n",
                            **{"platform-image": platform_image})
    stderr = build_fails(project, code=5, says=[
        "building wferryfx-sysdep needs the header sodium.h from the operating system",
        "[tool.wheelferry.overrides.wferryfx-sysdep]\nsystem-packages = [\"libsodium-dev\"]",
    ])
    assert "release date" not in stderr  # no Python build tool brings a C library

    snippet = stderr[stderr.index("[tool.wheelferry.overrides.wferryfx-sysdep]"):]
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n" + "\n".join(snippet.splitlines()[:2])
                         + "\n")
    run = wheelferry("build", project=project)
    assert run.returncode == 0, run.stderr
    record = records(project)["wferryfx-sysdep"]
    assert any(p.startswith("libsodium-dev=") for p in record["system_packages"])
    assert any(c.startswith("libsodium.so.23 from libsodium23=")
               for c in record["carried_libraries"]), record
    assert "manylinux_2_" in record["file"]  # a tag the platform's pip accepts

    verify = wheelferry("verify", project=project)
    assert verify.returncode == 0, verify.stderr
    assert wheelferry("init-script", project=project).returncode == 0

    # A desktop start of the replica (no libsodium there) calls into the library.
    persistent = tmp_path / "persistent-home"
    persistent.mkdir()
    persistent.chmod(0o777)
    shutil.copy(project / "init.sh", persistent / "init.sh")
    shutil.copytree(project / "wheelhouse", persistent / "my-tools")
    (persistent / "my-tools").chmod(0o777)
    missing = run_in_replica(platform_image, ["sh", "-c", "ls /usr/lib/*/libsodium* 2>&1"])
    assert missing.exit_code != 0
    call = "import wferryfx_sysdep; print(wferryfx_sysdep.hash_hex(b'abc'))"
    start = run_in_replica(
        platform_image, ["python3", "-c", call],
        binds=[Bind(persistent, f"{HOME}/persistent-home", read_only=False)], timeout=600)
    assert start.exit_code == 0, start.stdout + start.stderr
    # BLAKE2b-256 of b"abc", as Python's own hashlib makes it.
    assert start.stdout.strip().splitlines()[-1] == hashlib.blake2b(b"abc",
                                                                     digest_size=32).hexdigest()

    # Another build reuses the build image and the wheel.
    again = wheelferry("build", project=project)
    assert again.returncode == 0, again.stderr
    assert "installing the OS packages" not in again.stderr


def test_an_optional_compiled_part_left_out_is_named_when_built_and_only_warns_in_verify(
        local_index: str, tmp_path: Path) -> None:
    """wferryfx-optext leaves its C extension out when libsodium's header is missing, as PyYAML
    does without libyaml: the build says so and how to build it in, verify only warns about the
    shim that loads it (tied to that cause, no other release to pin), and the advice works."""
    project = index_project(tmp_path / "project", local_index, "wferryfx-optext\n")
    run = wheelferry("build", project=project)
    assert run.returncode == 0, run.stderr
    assert ("wferryfx-optext 1.0 was built without its optional compiled part: its build lacked "
            "the header sodium.h from the operating system") in run.stderr
    assert 'system-packages = ["libsodium-dev"]' in run.stderr
    assert records(project)["wferryfx-optext"]["left_out"] == ["the header sodium.h",
                                                                 "libsodium-dev"]
    verify = wheelferry("verify", project=project)
    assert verify.returncode == 0, verify.stderr
    assert "wferryfx-optext was built without its optional compiled part" in verify.stderr
    assert "pin a release" not in verify.stderr

    snippet = run.stderr[run.stderr.index("[tool.wheelferry.overrides.wferryfx-optext]"):]
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n" + "\n".join(snippet.splitlines()[:2])
                         + "\n")
    again = wheelferry("build", project=project)
    assert again.returncode == 0, again.stderr
    assert "without its optional compiled part" not in again.stderr
    record = records(project)["wferryfx-optext"]
    assert record["left_out"] == []
    assert any(c.startswith("libsodium.so.23") for c in record["carried_libraries"])
    proven = wheelferry("verify", "--verbose", project=project)
    assert proven.returncode == 0, proven.stderr
    assert "did not import" not in proven.stderr
    assert "import wferryfx_optext._speed  (wferryfx-optext): ok" in proven.stderr
