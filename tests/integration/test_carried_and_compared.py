"""Every wheel built from an sdist carries what the platform lacks, and loses nothing compiled
without a word (issue 18, items 2 and 3, for every build, with no setting).

wferryfx-cryptlink's extension links libcrypt, which the build image has (with its header) and
which is beyond the C runtime's core: built for a platform replica without it, the wheel carries
it and works there; built for the replica, which has it, the wheel is left as built (no repair).
wferryfx-quietext's sdist leaves its optional extension out without a word in its log, while its
published wheel (for another platform) holds it: the build names the module missing."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.platform_replica import HOME, Bind, ensure_image_without, run_in_replica
from tests.support import index_project, wheelferry

pytestmark = pytest.mark.engine

CALL = "import wferryfx_cryptlink; print(wferryfx_cryptlink.sha512_crypt('abc', 'saltsalt'))"


def records(project: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((project / "wheelhouse" / "wheelferry-manifest.json").read_text())
    return {record["name"]: record for record in manifest["wheels"]}


def wheel_names(project: Path, record: dict[str, Any]) -> list[str]:
    with zipfile.ZipFile(project / "wheelhouse" / record["file"]) as archive:
        return archive.namelist()


def test_a_library_of_the_build_image_travels_in_the_wheel_where_the_platform_lacks_it(
        local_index: str, platform_image: str, tmp_path: Path) -> None:
    lacking = ensure_image_without(platform_image, "libcrypt.so")
    gone = run_in_replica(lacking, ["sh", "-c", "ls /usr/lib/*/libcrypt.so* 2>&1"])
    assert gone.exit_code != 0, gone.stdout
    project = index_project(tmp_path / "project", local_index, "wferryfx-cryptlink\n",
                            **{"platform-image": lacking})
    run = wheelferry("build", project=project)
    assert run.returncode == 0, run.stderr
    record = records(project)["wferryfx-cryptlink"]
    assert any(c.startswith("libcrypt.so.1 from libcrypt1=")
               for c in record["carried_libraries"]), record
    assert "manylinux_2_" in record["file"]  # a tag the platform's pip accepts
    assert record["system_packages"] == []  # no setting needed
    verify = wheelferry("verify", project=project)
    assert verify.returncode == 0, verify.stderr
    assert wheelferry("init-script", project=project).returncode == 0

    # A desktop start of the replica without libcrypt calls into the carried library; the
    # replica's own libcrypt (through Python's crypt module) makes the same hash.
    persistent = tmp_path / "persistent-home"
    persistent.mkdir()
    persistent.chmod(0o777)
    shutil.copy(project / "init.sh", persistent / "init.sh")
    shutil.copytree(project / "wheelhouse", persistent / "my-tools")
    (persistent / "my-tools").chmod(0o777)
    start = run_in_replica(lacking, ["python3", "-c", CALL],
                           binds=[Bind(persistent, f"{HOME}/persistent-home", read_only=False)],
                           timeout=600)
    assert start.exit_code == 0, start.stdout + start.stderr
    expected = run_in_replica(platform_image, ["python3", "-W", "ignore", "-c",
                                               "import crypt; print(crypt.crypt('abc', "
                                               "'$6$saltsalt$'))"])
    assert expected.exit_code == 0, expected.stderr
    hashed = start.stdout.strip().splitlines()[-1]
    assert hashed.startswith("$6$saltsalt$")
    assert hashed == expected.stdout.strip()


def test_a_wheel_is_repaired_only_for_what_the_platform_lacks(
        local_index: str, platform_image: str, tmp_path: Path) -> None:
    # Without any platform information, only the C runtime's core counts as there.
    unknown = index_project(tmp_path / "unknown", local_index, "wferryfx-cryptlink\n")
    run = wheelferry("build", project=unknown)
    assert run.returncode == 0, run.stderr
    carried = records(unknown)["wferryfx-cryptlink"]
    assert any(c.startswith("libcrypt.so.1") for c in carried["carried_libraries"]), carried

    # The replica has libcrypt: the wheel stays as pip built it (no repair, no new tag).
    known = index_project(tmp_path / "known", local_index, "wferryfx-cryptlink\n",
                          **{"platform-image": platform_image})
    run = wheelferry("build", project=known)
    assert run.returncode == 0, run.stderr
    record = records(known)["wferryfx-cryptlink"]
    assert record["carried_libraries"] == []
    assert record["file"].endswith("-linux_x86_64.whl"), record["file"]
    assert not any(".libs/" in name for name in wheel_names(known, record))
    verify = wheelferry("verify", project=known)
    assert verify.returncode == 0, verify.stderr


def test_a_compiled_module_of_the_published_wheel_left_out_without_a_word_is_named(
        local_index: str, tmp_path: Path) -> None:
    """wferryfx-quietext's build says nothing of its skipped extension; its published wheel
    (for Windows) lists wferryfx_quietext._speed: the build warns naming it, verify only warns
    about the shim that loads it, and the advice applied builds it in."""
    project = index_project(tmp_path / "project", local_index, "wferryfx-quietext\n")
    run = wheelferry("build", project=project)
    assert run.returncode == 0, run.stderr
    assert ("wferryfx-quietext 1.0 was built without the compiled module(s) "
            "wferryfx_quietext._speed, which its published wheels have: its build log shows no "
            "cause") in run.stderr
    assert "[tool.wheelferry.overrides.wferryfx-quietext]" in run.stderr
    record = records(project)["wferryfx-quietext"]
    assert record["left_out"] == ["", "", "wferryfx_quietext._speed"]
    verify = wheelferry("verify", project=project)
    assert verify.returncode == 0, verify.stderr
    assert ("wferryfx-quietext was built without the compiled module(s) "
            "wferryfx_quietext._speed") in verify.stderr
    assert "pin a release" not in verify.stderr

    # The advice, with the OS package the extension needs (libsodium's header).
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.wheelferry.overrides.wferryfx-quietext]"
                         "\nsystem-packages = [\"libsodium-dev\"]\n")
    again = wheelferry("build", project=project)
    assert again.returncode == 0, again.stderr
    assert "was built without" not in again.stderr
    record = records(project)["wferryfx-quietext"]
    assert record["left_out"] == []
    assert any(name.startswith("wferryfx_quietext/_speed.") for name in
               wheel_names(project, record))
    proven = wheelferry("verify", "--verbose", project=project)
    assert proven.returncode == 0, proven.stderr
    assert "import wferryfx_quietext._speed  (wferryfx-quietext): ok" in proven.stderr
