"""The generated init.sh on a stand-in for the platform: a fresh python:3.10 container with the
network off, running as an ordinary user whose home holds only persistent-home/ (the uploaded
wheelhouse and init.sh)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from tests.support import TARGET_IMAGE, write_project

from wheelferry import manifest as mf
from wheelferry.engine import Engine

pytestmark = pytest.mark.engine

WHEELFERRY = Path(sys.executable).parent / "wheelferry"
USER_SITE = ".local/lib/python3.10/site-packages"
IMPORTS = ("import wferryfx_cext, wferryfx_legacy, wferryfx_needs_pure, wferryfx_pure; "
           "assert wferryfx_cext.add(2, 3) == 5; "
           "assert wferryfx_legacy.built_abi() == 2; "
           "assert wferryfx_pure.VALUE == 'pure'; "
           "print('IMPORTS-OK', wferryfx_cext.__file__)")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(WHEELFERRY), *args], capture_output=True, text=True,
                          timeout=900, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, local_index: str, engine: Engine) -> Path:
    project = write_project(
        tmp_path_factory.mktemp("init-script-built") / "project",
        {"base.in": "wferryfx-needs-pure\nwferryfx-cext\nwferryfx-legacy\n"},
        overrides={"wferryfx-legacy": {"build-requires": ["wferryfx-buildhelper"],
                                       "no-build-isolation": True}},
        **{"index-url": local_index, "network": "host", "ca-bundle": "none"})
    done = run_cli("build", "--project", str(project))
    assert done.returncode == 0, done.stderr
    return project


@pytest.fixture(scope="module")
def init_sh(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """init.sh as `wheelferry init-script` writes it for the project (default install-dir)."""
    path = tmp_path_factory.mktemp("init-script") / "init.sh"
    done = run_cli("init-script", "--project", str(built), "--output", str(path))
    assert done.returncode == 0, done.stderr
    assert "~/persistent-home/my-tools" in done.stderr
    return path


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    connected = docker.from_env()
    yield connected
    connected.close()


def make_home(root: Path, built: Path, init_sh: Path) -> Path:
    """A home folder as the platform has it: persistent-home/{my-tools,init.sh}, writable by
    uid 1000 (the tests run as root)."""
    home = root / "home"
    persistent = home / "persistent-home"
    shutil.copytree(built / "wheelhouse", persistent / "my-tools")
    shutil.copyfile(init_sh, persistent / "init.sh")
    for folder in (home, persistent, persistent / "my-tools"):
        folder.chmod(0o777)
    for path in (persistent / "my-tools").iterdir():
        path.chmod(0o644)
    return home


def on_platform(client: docker.DockerClient, home: Path, script: str) -> tuple[int, str]:
    """Run a bash script as uid 1000 with the network off and `home` as /home/u."""
    container = client.containers.run(
        TARGET_IMAGE, ["bash", "-c", script], detach=True, network_mode="none",
        user="1000:1000", working_dir="/home/u",
        environment={"HOME": "/home/u", "PIP_CONFIG_FILE": "/dev/null"},
        volumes={str(home): {"bind": "/home/u", "mode": "rw"}})
    try:
        status = container.wait(timeout=300)
        output: bytes = container.logs(stdout=True, stderr=True)
        return int(status["StatusCode"]), output.decode("utf-8", "replace")
    finally:
        container.remove(force=True)


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under folder: relative path -> (size, mtime in ns)."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_installs_per_user_offline_and_is_idempotent(
        client: docker.DockerClient, built: Path, init_sh: Path, tmp_path: Path) -> None:
    home = make_home(tmp_path, built, init_sh)
    code, output = on_platform(
        client, home, f'bash /home/u/persistent-home/init.sh && python3 -c "{IMPORTS}"')
    assert code == 0, output
    assert "wheelferry: installed the wheelhouse from /home/u/persistent-home/my-tools" in output
    # Installed per user: /usr/local's site-packages is not writable for uid 1000.
    assert f"IMPORTS-OK /home/u/{USER_SITE}/wferryfx_cext/" in output
    site = home / USER_SITE
    installed = listing(site)
    assert any(name.startswith("wferryfx_legacy/") for name in installed)

    code, output = on_platform(client, home, "bash /home/u/persistent-home/init.sh")
    assert code == 0, output
    assert "already installed from /home/u/persistent-home/my-tools (nothing to do)" in output
    assert "installed the wheelhouse" not in output
    assert listing(site) == installed, "the second run changed the user site"


def test_corrupted_wheel_installs_nothing(
        client: docker.DockerClient, built: Path, init_sh: Path, tmp_path: Path) -> None:
    home = make_home(tmp_path, built, init_sh)
    manifest = mf.read_manifest(built / "wheelhouse")
    assert manifest is not None
    record = manifest.wheel("wferryfx-pure")
    assert record is not None
    wheel = home / "persistent-home" / "my-tools" / record.file
    data = bytearray(wheel.read_bytes())
    data[len(data) // 3] ^= 0x20
    wheel.write_bytes(bytes(data))
    code, output = on_platform(
        client, home, 'bash /home/u/persistent-home/init.sh; status=$?; '
        'python3 -c "import wferryfx_pure" 2>/dev/null && echo IMPORTED; exit $status')
    assert code != 0, output
    assert "does not match SHA256SUMS; nothing installed" in output
    assert f"{record.file}: FAILED" in output
    assert "IMPORTED" not in output
    site = home / USER_SITE
    assert not site.exists() or not any(site.iterdir()), list(site.iterdir())


def test_user_lines_survive_and_one_block_remains(built: Path, tmp_path: Path) -> None:
    path = tmp_path / "init.sh"
    own = "#!/bin/bash\nexport FOO=1\necho hello\n"
    path.write_text(own)
    for _ in range(2):
        done = run_cli("init-script", "--project", str(built), "--output", str(path))
        assert done.returncode == 0, done.stderr
    text = path.read_text()
    assert text.startswith(own)
    assert text.count("# >>> wheelferry >>>") == 1
    assert text.count("# <<< wheelferry <<<") == 1
    assert text.count("wheelferry_install\n") == 1
    assert 'dir="$HOME"/persistent-home/my-tools' in text
    check = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["init.sh"], "a temporary file was left"
