"""Desktop and job starts on the platform replica after one upload (issue 19): fresh containers of
the platform's image through its own entrypoint, network off, as its user, with only
~/persistent-home kept from one start to the next. The first start installs the wheelhouse once
into persistent-home; every later start only links it; a start killed during the install, three
starts at once on one persistent-home and a new upload all end with one working install; a
provided package the administrators updated is named at start."""

from __future__ import annotations

import shlex
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import docker.types
import pytest
from tests.fixtures.platform_replica import (
    CONTAINER_PURPOSE,
    HOME,
    Bind,
    ReplicaRun,
    ensure_updated_image,
    run_in_replica,
)
from tests.support import LEGACY_OVERRIDE, built_project, made_wheelhouse, wheelferry

from wheelferry.engine.client import LABEL, PROJECT_LABEL
from wheelferry.target import initscript

pytestmark = pytest.mark.engine

TOOLS = f"{HOME}/persistent-home/my-tools"
INSTALLS = ".my-tools.wheelferry-installs"
REQUIREMENTS = "wferryfx-legacy\nwferryfx-needs-pure\nwferryfx-buildhelper\n"
USE = ("import wferryfx_legacy, wferryfx_needs_pure, wferryfx_buildhelper; "
       "assert wferryfx_legacy.built_abi() == 1; "
       "assert wferryfx_buildhelper.__file__.startswith('/usr/local/'); "
       f"assert wferryfx_needs_pure.__file__.startswith('{HOME}/persistent-home/{INSTALLS}/'); "
       "print('WORKS')")
# python3 running the block's program, stopped for good as the finished install is about to be
# renamed into place: a kill there leaves a complete-looking temporary folder behind.
PAUSING_PYTHON = """\
#!/bin/sh
exec python3 -c '
import os, sys, time
real_rename = os.rename
def pausing_rename(source, target, *args, **kwargs):
    if ".partial-" in os.fspath(source):
        time.sleep(600)
    return real_rename(source, target, *args, **kwargs)
os.rename = pausing_rename
sys.argv = sys.argv[1:]
exec(compile(sys.stdin.read(), "<init.sh>", "exec"), {"__name__": "__main__"})
' "$@"
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, local_index: str,
            platform_image: str) -> Path:
    built = built_project(tmp_path_factory.mktemp("starts"), local_index, REQUIREMENTS,
                          overrides=LEGACY_OVERRIDE, **{"platform-image": platform_image})
    assert wheelferry("init-script", project=built).returncode == 0
    return built


def upload(project: Path, root: Path) -> Path:
    """persistent-home after the upload: the wheelhouse at install-dir and init.sh, writable by
    the platform's user (the tests run as root)."""
    persistent = root / "persistent-home"
    persistent.mkdir(parents=True)
    persistent.chmod(0o777)
    shutil.copy(project / "init.sh", persistent / "init.sh")
    shutil.copytree(project / "wheelhouse", persistent / "my-tools")
    (persistent / "my-tools").chmod(0o777)
    return persistent


def start(image: str, persistent: Path, command: str = f"python3 -c {shlex.quote(USE)}"
          ) -> ReplicaRun:
    run = run_in_replica(image, ["sh", "-c", command],
                         binds=[Bind(persistent, f"{HOME}/persistent-home", read_only=False)],
                         timeout=600)
    assert "Traceback" not in run.stderr, run.stderr
    return run


def installs(persistent: Path) -> list[Path]:
    """The installs in place (not the temporary folders of one being made)."""
    return sorted(p for p in (persistent / INSTALLS).iterdir()
                  if p.is_dir() and not p.name.startswith("."))


def test_the_first_start_installs_and_the_next_only_links(
        platform_image: str, project: Path, tmp_path: Path) -> None:
    persistent = upload(project, tmp_path)
    first = start(platform_image, persistent)
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "WORKS" in first.stdout
    assert f"wheelferry: installed the wheelhouse from {TOOLS}" in first.stderr
    [install] = installs(persistent)
    assert install.name.startswith("cpython-310-x86_64-linux-gnu-")
    # The next start: a fresh container (no ~/.local), no pip, no wheel read: the wheels
    # could as well be gone.
    for wheel in (persistent / "my-tools").glob("*.whl"):
        wheel.unlink()
    second = start(platform_image, persistent)
    assert second.exit_code == 0, second.stdout + second.stderr
    assert "WORKS" in second.stdout
    assert f"wheelferry: linked the install of {TOOLS}" in second.stderr
    assert "installing" not in second.stderr
    assert "installed the wheelhouse" not in second.stderr
    assert installs(persistent) == [install]


def test_a_start_killed_during_the_install_then_a_good_one(
        platform_image: str, project: Path, tmp_path: Path,
        docker_client: docker.DockerClient) -> None:
    persistent = upload(project, tmp_path)
    pausing = tmp_path / "pausing-python"
    pausing.write_text(PAUSING_PYTHON)
    pausing.chmod(0o755)
    container = docker_client.containers.create(
        platform_image, command=["true"], network_mode="none", detach=True,
        labels={LABEL: CONTAINER_PURPOSE, PROJECT_LABEL: str(tmp_path.resolve())},
        environment={"WHEELFERRY_PYTHON": "/opt/pausing"},
        mounts=[docker.types.Mount(f"{HOME}/persistent-home", str(persistent), type="bind"),
                docker.types.Mount("/opt/pausing", str(pausing), type="bind", read_only=True)])
    try:
        container.start()
        deadline = time.monotonic() + 300
        partial: list[Path] = []
        while time.monotonic() < deadline and not partial:
            time.sleep(0.2)
            if (persistent / INSTALLS).is_dir():
                partial = [p for p in (persistent / INSTALLS).iterdir()
                           if p.name.startswith(".partial-")
                           and (p / ".wheelferry-complete").is_file()]
        assert partial, container.logs().decode()
        container.kill()  # SIGKILL, mid-install: the job is gone
    finally:
        container.remove(force=True)
    assert not installs(persistent), "a killed install was put in place"

    good = start(platform_image, persistent)
    assert good.exit_code == 0, good.stdout + good.stderr
    assert "WORKS" in good.stdout
    assert f"wheelferry: installed the wheelhouse from {TOOLS}" in good.stderr
    assert len(installs(persistent)) == 1
    assert not [p for p in (persistent / INSTALLS).iterdir() if p.name.startswith(".partial-")]


def test_three_starts_at_once_on_one_persistent_home(
        platform_image: str, project: Path, tmp_path: Path) -> None:
    persistent = upload(project, tmp_path)
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(lambda _: start(platform_image, persistent), range(3)))
    for run in runs:
        assert run.exit_code == 0, run.stdout + run.stderr
        assert "WORKS" in run.stdout, run.stdout + run.stderr
    said = "".join(run.stderr for run in runs)
    assert said.count("installing the wheelhouse from") == 1, said
    assert len(installs(persistent)) == 1
    assert [p.name for p in (persistent / INSTALLS).iterdir()
            if p.name.startswith(".partial-")] == []
    again = start(platform_image, persistent)
    assert "nothing to install" in again.stderr


def test_a_new_upload_switches_cleanly(
        platform_image: str, project: Path, tmp_path: Path, local_index: str) -> None:
    persistent = upload(project, tmp_path)
    first = start(platform_image, persistent)
    assert first.exit_code == 0, first.stdout + first.stderr
    [old] = installs(persistent)
    smaller = built_project(tmp_path / "smaller", local_index, "wferryfx-needs-pure\n",
                            **{"platform-image": platform_image})
    shutil.rmtree(persistent / "my-tools")
    shutil.copytree(smaller / "wheelhouse", persistent / "my-tools")
    check = ("import wferryfx_needs_pure, wferryfx_pure; "
             f"assert wferryfx_pure.__file__.startswith('{HOME}/persistent-home/{INSTALLS}/cp'); "
             "print('NEW-WORKS')")
    switched = start(platform_image, persistent,
                     f"python3 -c {shlex.quote(check)} && ! python3 -c 'import wferryfx_legacy' "
                     "2>/dev/null && echo LEGACY-GONE")
    assert switched.exit_code == 0, switched.stdout + switched.stderr
    assert "NEW-WORKS" in switched.stdout
    assert "LEGACY-GONE" in switched.stdout
    assert f"removing the previous install {HOME}/persistent-home/{INSTALLS}/{old.name}" \
        in switched.stderr
    [new] = installs(persistent)
    assert new != old


def test_a_provided_package_that_moved_is_named_at_start(
        platform_image: str, project: Path, tmp_path: Path, local_index_root: Path) -> None:
    updated = ensure_updated_image(platform_image, sorted(
        (local_index_root / "packages").glob("wferryfx_buildhelper-2.0-*.whl")))
    persistent = upload(project, tmp_path)
    for image in (platform_image, updated):
        run = start(image, persistent, "echo JOB-RAN")
        assert run.exit_code == 0, run.stdout + run.stderr
        assert "JOB-RAN" in run.stdout
    assert "changed since this wheelhouse was locked" not in start(
        platform_image, persistent, "true").stderr
    said = run.stderr
    assert ("the platform's packages changed since this wheelhouse was locked against them "
            f"(platform image {platform_image}): wferryfx-buildhelper 1.0 -> 2.0") in said
    assert "build it again against the platform as it is now" in said
    assert "This start goes on." in said


def test_console_scripts_are_on_the_platform_s_path_at_every_start(
        platform_image: str, tmp_path: Path) -> None:
    """A console script of what was shipped is linked into ~/.local/bin (on the platform's
    PATH) at every start, the second from the install the first made."""
    persistent = tmp_path / "persistent-home"
    persistent.mkdir()
    persistent.chmod(0o777)
    made_wheelhouse(persistent / "my-tools", [("wfx-tool", "1.0", "wfx_tool", "wfx-tool")])
    initscript.write(persistent / "init.sh", install_dir="~/persistent-home/my-tools")
    for said in ("installed the wheelhouse", "nothing to install"):
        run = start(platform_image, persistent, "wfx-tool && command -v wfx-tool")
        assert run.exit_code == 0, run.stdout + run.stderr
        assert said in run.stderr
        assert "RAN 1.0" in run.stdout
        assert f"{HOME}/.local/bin/wfx-tool" in run.stdout
