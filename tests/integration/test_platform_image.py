"""Building for the platform as it really is: `platform-image` set to a replica of a workstation
image (a provided stack installed as root, user chaimeleon, an entrypoint that runs
~/persistent-home/init.sh). What the platform has is locked against and left out; the proof is
that platform's own desktop start; a package that breaks the platform's own never passes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.platform_replica import (
    HOME,
    USER,
    Bind,
    run_in_replica,
    write_freeze_file,
)
from tests.support import LEGACY_OVERRIDE, WHEELFERRY, build_fails, write_project

pytestmark = pytest.mark.engine

USE_BOTH = ("import wferryfx_legacy, wferryfx_abidep, wferryfx_cext, wferryfx_needs_pure; "
            "assert wferryfx_legacy.built_abi() == 1, wferryfx_legacy.built_abi(); "
            "assert wferryfx_abidep.total([1, 2]) == 3; assert wferryfx_cext.add(2, 3) == 5; "
            "print('both work')")


def platform_project(tmp_path: Path, index_url: str, platform_image: str, requirements: str,
                     **settings: Any) -> Path:
    return write_project(tmp_path / "project", {"base.in": requirements},
                         **{"index-url": index_url, "network": "host", "ca-bundle": "none",
                            "platform-image": platform_image, **settings})


def run(*args: str, project: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([WHEELFERRY, *args, "--project", str(project)], capture_output=True,
                          text=True, check=False)
    assert "Traceback" not in done.stdout + done.stderr
    return done


def manifest(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (project / "wheelhouse" / "wheelferry-manifest.json").read_text())
    return data


def shipped(project: Path) -> set[tuple[str, str, str, str]]:
    return {(w["name"], w["version"], w["origin"], (w.get("sdist") or {}).get("sha256", ""))
            for w in manifest(project)["wheels"]}


def _header(project: Path) -> str:
    """The lock's first line: its fingerprint covers the inputs and where the provided set was
    read, so it differs between the two projects while the pins agree."""
    return (project / "requirements" / "base.txt").read_text().splitlines()[0]


def desktop_start(platform_image: str, persistent_home: Path, command: str) -> str:
    """A fresh container of the platform, network off, through its own entrypoint (which runs
    ~/persistent-home/init.sh): only persistent-home survives from the last start."""
    start = run_in_replica(platform_image, ["python3", "-c", command],
                           binds=[Bind(persistent_home, f"{HOME}/persistent-home",
                                       read_only=False)])
    assert start.exit_code == 0, start.stdout + start.stderr
    return start.stdout + start.stderr


def test_what_the_platform_has_is_left_out_and_its_own_start_works(
        tmp_path: Path, local_index: str, platform_image: str) -> None:
    project = platform_project(tmp_path, local_index, platform_image,
                               "wferryfx-legacy\nwferryfx-needs-pure\nwferryfx-buildhelper\n"
                               "wferryfx-cext\n", overrides=LEGACY_OVERRIDE)
    built = run("build", project=project)
    assert built.returncode == 0, built.stderr
    data = manifest(project)
    # The platform's buildhelper 1.0 and cext: locked at its versions, not shipped.
    assert data["provided"] == {"wferryfx-buildhelper": "1.0", "wferryfx-cext": "1.0"}
    assert data["provided_source"] == f"platform image {platform_image}"
    assert sorted(w["name"] for w in data["wheels"]) == [
        "wferryfx-legacy", "wferryfx-needs-pure", "wferryfx-pure", "wferryfx-tomlish"]
    legacy = next(w for w in data["wheels"] if w["name"] == "wferryfx-legacy")
    assert any(line.split("==") == ["wferryfx_buildhelper", "1.0"]
               or line.split("==") == ["wferryfx-buildhelper", "1.0"]
               for line in legacy["build_requires"]), legacy["build_requires"]
    assert "provided by the platform" in built.stderr

    proof = run("verify", project=project)
    assert proof.returncode == 0, proof.stderr
    assert "the platform's own packages still import" in proof.stderr
    assert f"network off, as {USER}," in proof.stderr  # the image's USER

    # What the user uploads, then two desktop starts on the platform itself.
    assert run("init-script", project=project).returncode == 0
    persistent = tmp_path / "persistent-home"
    persistent.mkdir()
    persistent.chmod(0o777)  # the platform's user writes in it (the tests run as root)
    shutil.copy(project / "init.sh", persistent / "init.sh")
    shutil.copytree(project / "wheelhouse", persistent / "my-tools")
    for _ in range(2):
        assert "both work" in desktop_start(platform_image, persistent, USE_BOTH)


def test_a_shipped_package_that_breaks_a_provided_one_never_passes(
        tmp_path: Path, local_index: str, platform_image: str) -> None:
    project = platform_project(tmp_path, local_index, platform_image, "wferryfx-needs-two\n",
                               **{"replace-provided": ["wferryfx-buildhelper"]})
    built = run("build", project=project)
    assert built.returncode == 0, built.stderr
    assert {(w["name"], w["version"]) for w in manifest(project)["wheels"]} == {
        ("wferryfx-buildhelper", "2.0"), ("wferryfx-needs-two", "1.0")}
    proof = run("verify", project=project)
    assert proof.returncode == 6, proof.stderr
    assert "the platform's wferryfx-abidep 1.0" in proof.stderr
    assert "installing wferryfx-buildhelper 2.0 breaks it" in proof.stderr
    assert "dtype size changed" in proof.stderr
    status = subprocess.run([WHEELFERRY, "status", "-p", str(project)], capture_output=True,
                            text=True, check=True)
    assert "not proven" in status.stdout


def test_a_requirement_that_needs_another_provided_version_is_a_lock_error(
        tmp_path: Path, local_index: str, platform_image: str) -> None:
    project = platform_project(tmp_path, local_index, platform_image, "wferryfx-needs-two\n")
    build_fails(project, code=4, says=[
        "wferryfx-needs-two 1.0 requires wferryfx-buildhelper>=2",
        "the platform provides wferryfx-buildhelper 1.0",
        'replace-provided = ["wferryfx-buildhelper"]'])


def test_the_platforms_freeze_file_gives_the_same_wheelhouse(
        tmp_path: Path, local_index: str, platform_image: str) -> None:
    requirements = "wferryfx-needs-pure\nwferryfx-buildhelper\n"
    with_image = platform_project(tmp_path / "image", local_index, platform_image, requirements)
    with_file = write_project(tmp_path / "file" / "project", {"base.in": requirements},
                              **{"index-url": local_index, "network": "host",
                                 "ca-bundle": "none", "provided": "platform-freeze.txt"})
    write_freeze_file(platform_image, with_file / "platform-freeze.txt")
    for project in (with_image, with_file):
        done = run("build", project=project)
        assert done.returncode == 0, done.stderr
    assert manifest(with_image)["provided"] == manifest(with_file)["provided"] == {
        "wferryfx-buildhelper": "1.0"}
    # The same pins from the same sources (wheels built from sdists differ in their zip times).
    assert shipped(with_image) == shipped(with_file)
    assert (with_image / "requirements" / "base.txt").read_text() == (
        with_file / "requirements" / "base.txt").read_text().replace(
        _header(with_file), _header(with_image))


def test_a_fingerprint_taken_on_the_platform_gives_the_same_lock_and_wheelhouse(
        tmp_path: Path, local_index: str, platform_image: str) -> None:
    """`wheelferry fingerprint`'s script, run in the platform as its user, describes it; with
    provided = "platform.json" (and no platform image) the lock and the wheelhouse are those
    the platform image gives, and its tags and glibc check the wheels."""
    requirements = "wferryfx-needs-pure\nwferryfx-buildhelper\n"
    with_image = platform_project(tmp_path / "image", local_index, platform_image, requirements)
    with_print = write_project(tmp_path / "print" / "project", {"base.in": requirements},
                               **{"index-url": local_index, "network": "host",
                                  "ca-bundle": "none", "provided": "platform.json"})
    assert run("fingerprint", project=with_print).returncode == 0
    taken = run_in_replica(platform_image, ["python3", "/upload/fingerprint.py"],
                           binds=[Bind(with_print, "/upload")])
    assert taken.exit_code == 0, taken.stderr
    (with_print / "platform.json").write_text(taken.stdout)
    described = json.loads(taken.stdout)
    assert described["user"]["name"] == "chaimeleon"
    assert described["python"]["version"].startswith("3.10.")
    assert described["libc"]["name"] == "glibc"
    assert described["distributions"]["wferryfx-buildhelper"] == "1.0"
    assert "cp310-cp310-manylinux_2_17_x86_64" in described["tags"]
    assert described["writable"]["purelib"] is False
    assert described["user_site"]["enabled"] is True
    for project in (with_image, with_print):
        done = run("build", project=project)
        assert done.returncode == 0, done.stderr
    assert manifest(with_image)["provided"] == manifest(with_print)["provided"] == {
        "wferryfx-buildhelper": "1.0"}
    assert manifest(with_print)["provided_source"] == "the fingerprint platform.json"
    assert shipped(with_image) == shipped(with_print)
    assert (with_image / "requirements" / "base.txt").read_text() == (
        with_print / "requirements" / "base.txt").read_text().replace(
        _header(with_print), _header(with_image))
    checked = run("verify", "--static", project=with_print)
    assert checked.returncode == 0, checked.stderr
    # A platform that supports none of the wheels' tags: verify names the wheel and the file.
    described["tags"] = ["cp310-cp310-manylinux_2_17_aarch64"]
    (with_print / "platform.json").write_text(json.dumps(described))
    refused = run("verify", "--static", project=with_print)
    assert refused.returncode == 6, refused.stderr
    assert "its tags match none of those the platform supports (the fingerprint " \
        "platform.json)" in refused.stderr


def test_a_platform_image_that_does_not_exist_is_named(tmp_path: Path,
                                                       local_index: str) -> None:
    project = platform_project(tmp_path, local_index, "wheelferry-no-such-platform:1",
                               "wferryfx-pure\n")
    build_fails(project, code=3, says=["the platform image 'wheelferry-no-such-platform:1'",
                                       "provided = \"platform-freeze.txt\""])


def test_a_platform_image_with_another_python_is_named(tmp_path: Path, local_index: str,
                                                       platform_image: str) -> None:
    project = platform_project(tmp_path, local_index, platform_image, "wferryfx-pure\n")
    done = run("lock", "--python", "3.11", project=project)
    assert done.returncode == 3, done.stderr
    assert f"the platform image '{platform_image}' has cpython 3.10" in done.stderr
    assert "python is 3.11" in done.stderr
    assert not (project / "requirements" / "base.txt").exists()
