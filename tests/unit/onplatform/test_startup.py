"""The init.sh block's program (startup.py) run as the block runs it, with a real pip, in a
throwaway venv (whose site-packages is writable, so the link goes there): installed once into a
folder beside the install dir, then only linked (no pip, no wheel read); a new upload switches
and the old install goes; what we ship comes before the interpreter's own packages; console
scripts are linked; a killed install's leftovers go; drifted provided packages are named."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support import made_wheelhouse

from wheelferry.onplatform import startup
from wheelferry.project import manifest as mf
from wheelferry.target import initscript


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("startup-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    return folder


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    assert len(found) == 1
    return found[0]


def start(venv: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """The block's program, as init.sh hands it to python3 (on stdin, the folder its argument)."""
    return subprocess.run([str(venv / "bin" / "python"), "-", str(folder)],
                          input=initscript.installer_source(), capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null",
                               "HOME": str(folder.parent)}, check=False)


def python(venv: Path, code: str) -> str:
    done = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def installs(folder: Path) -> list[str]:
    return sorted(p.name for p in startup.installs_of(folder).iterdir()
                  if not p.name.startswith(".") and p.is_dir())


def test_constants_are_the_wheelhouse_s_names() -> None:
    assert (startup.SUMS, startup.REQUIREMENTS, startup.MANIFEST) == (
        mf.SUMS, mf.REQUIREMENTS, mf.MANIFEST)


def test_installed_once_then_only_linked_and_a_new_upload_switches(
        venv: Path, tmp_path: Path) -> None:
    tools = made_wheelhouse(tmp_path / "my-tools", [("wfx-one", "1.0", "wfx_one", "wfx-one-run")])
    first = start(venv, tools)
    assert first.returncode == 0, first.stderr
    assert f"installed the wheelhouse from {tools}" in first.stderr
    [install] = installs(tools)
    assert install.endswith("-" + hashlib.sha256((tools / mf.SUMS).read_bytes())
                            .hexdigest()[:16])
    where = python(venv, "import wfx_one; print(wfx_one.__file__)")
    assert where.startswith(str(startup.installs_of(tools) / install) + "/")
    assert subprocess.run([str(venv / "bin" / "wfx-one-run")], capture_output=True, text=True,
                          check=True).stdout.strip() == "RAN 1.0"
    # Compiled where it is: a traceback names the installed file.
    assert list((startup.installs_of(tools) / install).glob("__pycache__/wfx_one.*.pyc"))

    # The next start reads no wheel and runs no pip: with the wheels gone it still works.
    for path in tools.glob("*.whl"):
        path.unlink()
    second = start(venv, tools)
    assert second.returncode == 0, second.stderr
    assert "nothing to install" in second.stderr
    assert "installing" not in second.stderr
    assert python(venv, "import wfx_one; print(wfx_one.VALUE)") == "1.0"

    # A new upload: installed, switched to, the old install and its script gone.
    made_wheelhouse(tools, [("wfx-one", "2.0", "wfx_one", ""), ("wfx-two", "1.0", "wfx_two", "")])
    third = start(venv, tools)
    assert third.returncode == 0, third.stderr
    assert "removing the previous install" in third.stderr
    assert len(installs(tools)) == 1
    assert installs(tools) != [install]
    assert python(venv, "import wfx_one, wfx_two; print(wfx_one.VALUE)") == "2.0"
    assert not (venv / "bin" / "wfx-one-run").exists()
    assert not (venv / "bin" / "wfx-one-run").is_symlink()
    assert len(list(site_packages(venv).glob("wheelferry-*.pth"))) == 1


def test_what_we_ship_comes_before_the_interpreter_s_own(venv: Path, tmp_path: Path) -> None:
    (site_packages(venv) / "wfx_shadow.py").write_text("VALUE = 'the platform'\n")
    tools = made_wheelhouse(tmp_path / "my-tools", [("wfx-shadow", "9.0", "wfx_shadow", "")])
    done = start(venv, tools)
    assert done.returncode == 0, done.stderr
    assert python(venv, "import wfx_shadow; print(wfx_shadow.VALUE)") == "9.0"
    (site_packages(venv) / "wfx_shadow.py").unlink()


def test_a_killed_install_s_leftovers_go_and_a_failed_one_keeps_the_previous(
        venv: Path, tmp_path: Path) -> None:
    tools = made_wheelhouse(tmp_path / "my-tools", [("wfx-kept", "1.0", "wfx_kept", "")])
    assert start(venv, tools).returncode == 0
    [previous] = installs(tools)
    leftover = startup.installs_of(tools) / f"{startup.TEMPORARY}x-1234"
    (leftover / "half").mkdir(parents=True)
    # A new upload whose wheel is damaged: refused, the previous install stays linked.
    made_wheelhouse(tools, [("wfx-kept", "2.0", "wfx_kept", "")])
    damaged = next(tools.glob("*.whl"))
    damaged.write_bytes(damaged.read_bytes()[:-10])
    refused = start(venv, tools)
    assert refused.returncode == 1
    assert f"{damaged.name}: FAILED" in refused.stderr
    assert "stays in use" in refused.stderr
    assert installs(tools) == [previous]
    assert not leftover.exists()
    assert python(venv, "import wfx_kept; print(wfx_kept.VALUE)") == "1.0"
    # With the install complete, a start that only links clears what a killed one left too.
    wheelhouse_again = made_wheelhouse(tools, [("wfx-kept", "1.0", "wfx_kept", "")])
    assert start(venv, wheelhouse_again).returncode == 0
    leftover.mkdir()
    linked = start(venv, tools)
    assert "nothing to install" in linked.stderr
    assert not leftover.exists()


def test_a_provided_package_that_moved_is_named_and_the_start_goes_on(
        venv: Path, tmp_path: Path) -> None:
    (site_packages(venv) / "wfx_base-2.1.dist-info").mkdir()
    (site_packages(venv) / "Wfx.Same-1.0.dist-info").mkdir()
    try:
        tools = made_wheelhouse(tmp_path / "my-tools", [("wfx-user", "1.0", "wfx_user", "")],
                           provided={"wfx-base": "1.4", "wfx-same": "1.0.0",
                                     "wfx-gone": "3.0"})
        for attempt in range(2):
            done = start(venv, tools)
            assert done.returncode == 0, done.stderr
            said = done.stderr
            assert "wfx-base 1.4 -> 2.1" in said, attempt
            assert "wfx-gone 3.0 -> not installed" in said
            assert "wfx-same" not in said
            assert "platform.txt" in said
            assert "build it again" in said
    finally:
        for name in ("wfx_base-2.1.dist-info", "Wfx.Same-1.0.dist-info"):
            (site_packages(venv) / name).rmdir()
