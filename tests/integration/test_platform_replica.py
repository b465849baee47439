"""The platform replica is what it claims (issue 9): checked by running containers of it, network
off, through its own entrypoint, as its own user."""

from __future__ import annotations

import shutil
from pathlib import Path

import docker
import pytest
from tests.fixtures import platform_replica
from tests.fixtures.platform_replica import (
    HOME,
    PROVIDED,
    SYSTEM_SITE_PACKAGES,
    Bind,
    ensure_platform_image,
    run_in_replica,
    write_freeze_file,
)

pytestmark = pytest.mark.engine

USER_SITE = f"{HOME}/.local/lib/python3.10/site-packages"
INIT_MARKER = "### Executing the user custom init script ###"


def bash(image: str, script: str, *binds: Bind) -> platform_replica.ReplicaRun:
    return run_in_replica(image, ["bash", "-c", script], binds=binds)


def dists_folder(tmp_path: Path, index_root: Path, *patterns: str) -> Bind:
    """Copies of the local index's dists matching ``patterns``, readable by the replica's user,
    mounted read-only at /mnt/dists."""
    folder = tmp_path / "dists"
    folder.mkdir()
    for pattern in patterns:
        found = sorted((index_root / "packages").glob(pattern))
        assert found, pattern
        for dist in found:
            shutil.copyfile(dist, folder / dist.name)
    folder.chmod(0o755)
    return Bind(folder, "/mnt/dists")


def persistent_home(tmp_path: Path, init_sh: str | None) -> Bind:
    """A persistent-home folder (with init.sh when given), mounted where the platform mounts it."""
    folder = tmp_path / "persistent-home"
    folder.mkdir()
    folder.chmod(0o777)
    if init_sh is not None:
        (folder / "init.sh").write_text(init_sh)
    return Bind(folder, f"{HOME}/persistent-home", read_only=False)


def test_runs_as_chaimeleon_with_its_home_and_no_sudo(platform_image: str) -> None:
    run = bash(platform_image, 'id -u; id -un; id -g; echo "$HOME"; pwd; '
                               "command -v sudo || echo no-sudo")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.split() == ["1000", "chaimeleon", "1000", HOME, HOME, "no-sudo"]


def test_provided_packages_import_from_the_system_site_packages(platform_image: str) -> None:
    script = (
        "import platform, site, sys\n"
        "import wferryfx_abidep, wferryfx_buildhelper, wferryfx_cext\n"
        "print(platform.python_implementation(), '%d.%d' % sys.version_info[:2])\n"
        "print(wferryfx_buildhelper.ABI, wferryfx_abidep.total([1, 2]), wferryfx_cext.add(2, 3))\n"
        "for module in (wferryfx_abidep, wferryfx_buildhelper, wferryfx_cext._native):\n"
        "    print(module.__file__)\n"
        "print(site.getusersitepackages())\n"
    )
    run = run_in_replica(platform_image, ["python3", "-c", script])
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "CPython 3.10"
    assert lines[1] == "1 3 5"
    for path in lines[2:5]:
        assert path.startswith(SYSTEM_SITE_PACKAGES + "/"), path
    assert lines[5] == USER_SITE


def test_pip_install_user_of_a_wheel_works_offline_and_lands_in_dot_local(
    platform_image: str, local_index_root: Path, tmp_path: Path
) -> None:
    dists = dists_folder(tmp_path, local_index_root, "wferryfx_buildhelper-2.0-*.whl")
    run = bash(
        platform_image,
        "set -e; python3 -m pip install --disable-pip-version-check --user --no-index "
        "--find-links /mnt/dists wferryfx-buildhelper==2.0; "
        "python3 -c 'import wferryfx_buildhelper as h; print(h.ABI, h.__file__)'",
        dists,
    )
    assert run.exit_code == 0, run.stdout + run.stderr
    abi, location = run.stdout.splitlines()[-1].split()
    assert abi == "2"
    assert location.startswith(USER_SITE + "/"), location


def test_plain_pip_install_goes_to_the_user_site_and_can_shadow_a_provided_package(
    platform_image: str, local_index_root: Path, tmp_path: Path
) -> None:
    """What the platform does when a wheelhouse carries numpy 2: the user site shadows the
    provided numpy 1 and the provided pandas stops importing."""
    dists = dists_folder(tmp_path, local_index_root, "wferryfx_buildhelper-2.0-*.whl")
    run = bash(
        platform_image,
        "python3 -m pip install --disable-pip-version-check --no-index --find-links /mnt/dists "
        "wferryfx-buildhelper==2.0 && python3 -c 'import wferryfx_abidep'",
        dists,
    )
    assert "Defaulting to user installation because normal site-packages is not writeable" in (
        run.stdout + run.stderr)
    assert run.exit_code != 0, run.stdout
    assert ("ImportError: wferryfx_buildhelper.dtype size changed, may indicate binary "
            "incompatibility. Expected ABI 1, got 2") in run.stderr


def test_entrypoint_runs_init_sh_before_the_command(platform_image: str, tmp_path: Path) -> None:
    init_sh = 'echo "init ran as $(id -un)" > "$HOME/from-init"\n'
    run = bash(platform_image, 'cat "$HOME/from-init"; echo "PATH=$PATH"',
               persistent_home(tmp_path, init_sh))
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == INIT_MARKER
    assert "init ran as chaimeleon" in lines
    path = next(line for line in lines if line.startswith("PATH="))
    assert f"{HOME}/.local/bin" in path.removeprefix("PATH=").split(":")


def test_entrypoint_without_init_sh_runs_the_command_as_pid_1(
    platform_image: str, tmp_path: Path
) -> None:
    for binds in ((), (persistent_home(tmp_path, None),)):
        run = run_in_replica(platform_image, ["bash", "-c", 'echo "job pid $$"; exit 7'],
                             binds=binds)
        # exec "$@": the job replaced the entrypoint's shell, and its exit status is the
        # container's.
        assert run.exit_code == 7, run.stderr
        assert run.stdout == "job pid 1\n"


def test_a_failing_init_sh_does_not_stop_the_job(platform_image: str, tmp_path: Path) -> None:
    run = bash(platform_image, "echo job-ran", persistent_home(tmp_path, "exit 3\n"))
    assert run.exit_code == 0, run.stderr
    assert "job-ran" in run.stdout.splitlines()
    assert "init.sh exited with status 3" in run.stderr


def test_there_is_no_c_compiler(
    platform_image: str, local_index_root: Path, tmp_path: Path
) -> None:
    dists = dists_folder(tmp_path, local_index_root, "wferryfx-cext-1.0.tar.gz",
                         "setuptools-*.whl", "wheel-*.whl", "packaging-*.whl")
    run = bash(
        platform_image,
        "for tool in cc gcc c++ g++ x86_64-linux-gnu-gcc; do "
        '  command -v "$tool" || echo "no $tool"; '
        "done; "
        "python3 -m pip wheel --disable-pip-version-check --no-index --find-links /mnt/dists "
        "-w /tmp/wheels wferryfx-cext",
        dists,
    )
    for tool in ("cc", "gcc", "c++", "g++", "x86_64-linux-gnu-gcc"):
        assert f"no {tool}\n" in run.stdout
    # The sdist with a C extension cannot be built here: the compiler it asks for is missing.
    assert run.exit_code != 0, run.stdout
    output = run.stdout + run.stderr
    assert "Failed to build wferryfx-cext" in output
    assert any("No such file or directory" in line and "'gcc'" in line
               for line in output.splitlines()), output


def test_freeze_file_lists_the_provided_packages(platform_image: str, tmp_path: Path) -> None:
    freeze = write_freeze_file(platform_image, tmp_path / "platform-freeze.txt")
    lines = freeze.read_text().splitlines()
    for name, version in PROVIDED:
        assert f"{name}=={version}" in lines
    assert any(line.startswith("pip==") for line in lines)
    assert all("==" in line for line in lines), lines


def test_image_is_labelled_and_reused(
    platform_image: str, local_index_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = docker.from_env()
    try:
        config = client.images.get(platform_image).attrs["Config"]
    finally:
        client.close()
    repository, tag = platform_image.split(":")
    assert repository == platform_replica.REPOSITORY
    assert config["Labels"][platform_replica.IMAGE_LABEL].startswith(tag)
    assert config["User"] == "chaimeleon"
    assert config["Entrypoint"] == [platform_replica.ENTRYPOINT]
    assert not any(item.startswith("PIP_") for item in config["Env"]), config["Env"]

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the replica was built again although it exists")

    monkeypatch.setattr(platform_replica, "_build_image", no_build)
    assert ensure_platform_image(local_index_root / "packages") == platform_image
