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

from wheelferry.engine.client import Engine
from wheelferry.project import manifest as mf

pytestmark = pytest.mark.engine

USER_SITE = ".local/lib/python3.10/site-packages"
INSTALLS = "persistent-home/.my-tools.wheelferry-installs"
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
    """The first start installs once into persistent-home and links it from the user site (one
    .pth file); the next start only links, changing nothing."""
    home = make_home(tmp_path, built, init_sh)
    code, output = on_platform(
        docker_client, home, f'bash /home/u/persistent-home/init.sh && python3 -c "{IMPORTS}"')
    assert code == 0, output
    assert "wheelferry: installed the wheelhouse from /home/u/persistent-home/my-tools" in output
    # Installed into persistent-home (the only folder that survives a start), for this Python.
    assert (f"IMPORTS-OK /home/u/{INSTALLS}/cpython-310-x86_64-linux-gnu-"
            in output), output
    installs = home / INSTALLS
    [install] = [p for p in installs.iterdir() if p.is_dir()]
    assert (install / ".wheelferry-complete").is_file()
    installed = listing(install)
    assert any(name.startswith("wferryfx_legacy/") for name in installed)
    site = home / USER_SITE
    assert [p.name for p in site.iterdir()] == [
        next(p.name for p in site.iterdir() if p.suffix == ".pth")]

    code, output = on_platform(docker_client, home, "bash /home/u/persistent-home/init.sh")
    assert code == 0, output
    assert "linked the install of /home/u/persistent-home/my-tools" in output
    assert "nothing to install" in output
    assert "installed the wheelhouse" not in output
    assert listing(install) == installed, "the second run changed the install"


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
        docker_client, home, 'set -e; bash /home/u/persistent-home/init.sh; echo AFTER; '
        'python3 -c "import wferryfx_pure" 2>/dev/null && echo IMPORTED; true')
    # Refused, said so, and the start goes on (a set -e start script is not aborted).
    assert code == 0, output
    assert "AFTER" in output
    assert "nothing installed (see above); init.sh goes on" in output
    assert "does not match SHA256SUMS; nothing installed" in output
    assert f"{record.file}: FAILED" in output
    assert "IMPORTED" not in output
    site = home / USER_SITE
    assert not site.exists() or not any(site.iterdir()), list(site.iterdir())
    installs = home / INSTALLS
    assert not installs.exists() or not [p for p in installs.iterdir() if p.is_dir()]


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
    assert text.count("\nwheelferry_install || ") == 1
    assert 'dir="$HOME"/persistent-home/my-tools' in text
    check = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["init.sh"], "a temporary file was left"


def test_the_block_works_under_sh_and_never_stops_a_set_e_script(
        docker_client: docker.DockerClient, built: Path, tmp_path: Path) -> None:
    """Appended to a user's `#!/bin/sh` script with `set -e`, run by dash: it installs, and
    when it fails (no wheelhouse yet) the user's own lines after it still run."""
    script = tmp_path / "init.sh"
    script.write_text("#!/bin/sh\nset -e\necho MINE-BEFORE\n")
    done = wheelferry("init-script", "--output", str(script), project=built)
    assert done.returncode == 0, done.stderr
    script.write_text(script.read_text() + "echo MINE-AFTER\n")
    home = make_home(tmp_path, built, script)
    code, output = on_platform(docker_client, home,
                               f'sh /home/u/persistent-home/init.sh && python3 -c "{IMPORTS}"')
    assert code == 0, output
    assert "MINE-BEFORE" in output
    assert "MINE-AFTER" in output
    assert "IMPORTS-OK" in output
    shutil.rmtree(home / "persistent-home" / "my-tools")
    shutil.rmtree(home / ".local")
    code, output = on_platform(docker_client, home, "sh /home/u/persistent-home/init.sh")
    assert code == 0, output
    assert "no wheelhouse at /home/u/persistent-home/my-tools" in output
    assert "MINE-AFTER" in output


def test_a_start_with_this_wheelhouse_installed_reads_no_wheel(
        docker_client: docker.DockerClient, built: Path, init_sh: Path, tmp_path: Path) -> None:
    """Every byte is checked once, before the one install; later starts link that install and
    never read the wheels again: one damaged after the install changes nothing, nor does one
    missing, and what was installed still imports."""
    home = make_home(tmp_path, built, init_sh)
    start = "bash /home/u/persistent-home/init.sh"
    code, output = on_platform(docker_client, home, start)
    assert code == 0, output
    assert (home / "persistent-home" / ".my-tools.wheelferry-checked").is_file()
    manifest = mf.read_manifest(built / "wheelhouse")
    assert manifest is not None
    record = manifest.wheel("wferryfx-pure")
    assert record is not None
    wheel = home / "persistent-home" / "my-tools" / record.file
    data = bytearray(wheel.read_bytes())
    data[len(data) // 3] ^= 0x20
    wheel.write_bytes(bytes(data))
    other = manifest.wheel("wferryfx-cext")
    assert other is not None
    (home / "persistent-home" / "my-tools" / other.file).unlink()
    code, output = on_platform(docker_client, home, f'{start} && python3 -c "{IMPORTS}"')
    assert code == 0, output
    assert "nothing to install" in output
    assert "FAILED" not in output
    assert "IMPORTS-OK" in output


def test_a_package_dropped_from_the_wheelhouse_is_uninstalled_at_the_next_start(
        docker_client: docker.DockerClient, built: Path, init_sh: Path, tmp_path: Path,
        local_index: str) -> None:
    home = make_home(tmp_path, built, init_sh)
    start = "bash /home/u/persistent-home/init.sh"
    code, output = on_platform(docker_client, home, start + f' && python3 -c "{IMPORTS}"')
    assert code == 0, output
    smaller = built_project(tmp_path / "smaller", local_index, "wferryfx-pure\n")
    shutil.rmtree(home / "persistent-home" / "my-tools")
    shutil.copytree(smaller / "wheelhouse", home / "persistent-home" / "my-tools")
    code, output = on_platform(
        docker_client, home, start + " && python3 -c 'import wferryfx_pure' && "
        "! python3 -c 'import wferryfx_cext' 2>/dev/null && echo CEXT-GONE")
    assert code == 0, output
    assert "removing the previous install" in output
    assert "CEXT-GONE" in output
    assert len([p for p in (home / INSTALLS).iterdir() if p.is_dir()]) == 1


def test_without_a_user_site_it_says_why_and_installs_nothing(
        docker_client: docker.DockerClient, built: Path, init_sh: Path, tmp_path: Path) -> None:
    home = make_home(tmp_path, built, init_sh)
    code, output = on_platform(docker_client, home,
                               "PYTHONNOUSERSITE=1 bash /home/u/persistent-home/init.sh")
    assert code == 0, output
    assert "its user site is disabled" in output
    assert "nothing installed" in output
    assert not (home / USER_SITE).exists()
