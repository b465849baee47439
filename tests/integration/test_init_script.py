"""The generated init.sh on a stand-in for the platform: a fresh python:3.10 container with the
network off, running as an ordinary user whose home holds only persistent-home/ (the uploaded
wheelhouse and init.sh)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import docker
import pytest
from tests.support import LEGACY_OVERRIDE, built_project, run_script, wheelferry

from wheelferry import manifest as mf
from wheelferry.engine import Engine

pytestmark = pytest.mark.engine

USER_SITE = ".local/lib/python3.10/site-packages"
IMPORTS = ("import wferryfx_cext, wferryfx_legacy, wferryfx_needs_pure, wferryfx_pure; "
           "assert wferryfx_cext.add(2, 3) == 5; "
           "assert wferryfx_legacy.built_abi() == 2; "
           "assert wferryfx_pure.VALUE == 'pure'; "
           "print('IMPORTS-OK', wferryfx_cext.__file__)")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, local_index: str, engine: Engine) -> Path:
    return built_project(tmp_path_factory.mktemp("init-script-built"), local_index,
                         "wferryfx-needs-pure\nwferryfx-cext\nwferryfx-legacy\n",
                         overrides=LEGACY_OVERRIDE)


@pytest.fixture(scope="module")
def init_sh(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """init.sh as `wheelferry init-script` writes it for the project (default install-dir)."""
    path = tmp_path_factory.mktemp("init-script") / "init.sh"
    done = wheelferry("init-script", "--output", str(path), project=built)
    assert done.returncode == 0, done.stderr
    assert "~/persistent-home/my-tools" in done.stderr
    return path


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
    return run_script(client, script, timeout=300, network_mode="none", user="1000:1000",
                      working_dir="/home/u",
                      environment={"HOME": "/home/u", "PIP_CONFIG_FILE": "/dev/null"},
                      volumes={str(home): {"bind": "/home/u", "mode": "rw"}})


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under folder: relative path -> (size, mtime in ns)."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_installs_per_user_offline_and_is_idempotent(
        docker_client: docker.DockerClient, built: Path, init_sh: Path, tmp_path: Path) -> None:
    home = make_home(tmp_path, built, init_sh)
    code, output = on_platform(
        docker_client, home, f'bash /home/u/persistent-home/init.sh && python3 -c "{IMPORTS}"')
    assert code == 0, output
    assert "wheelferry: installed the wheelhouse from /home/u/persistent-home/my-tools" in output
    # Installed per user: /usr/local's site-packages is not writable for uid 1000.
    assert f"IMPORTS-OK /home/u/{USER_SITE}/wferryfx_cext/" in output
    site = home / USER_SITE
    installed = listing(site)
    assert any(name.startswith("wferryfx_legacy/") for name in installed)

    code, output = on_platform(docker_client, home, "bash /home/u/persistent-home/init.sh")
    assert code == 0, output
    assert "already installed from /home/u/persistent-home/my-tools (nothing to do)" in output
    assert "installed the wheelhouse" not in output
    assert listing(site) == installed, "the second run changed the user site"


def test_corrupted_wheel_installs_nothing(
        docker_client: docker.DockerClient, built: Path, init_sh: Path, tmp_path: Path) -> None:
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
        docker_client, home, 'bash /home/u/persistent-home/init.sh; status=$?; '
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
        done = wheelferry("init-script", "--output", str(path), project=built)
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
