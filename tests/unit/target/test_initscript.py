"""The init.sh block: the user's lines are kept byte for byte, the block is replaced in place, and
any install-dir value is quoted so that bash sees exactly that path."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wheelferry.core.errors import InitScriptError
from wheelferry.target import initscript
from wheelferry.target.initscript import BEGIN, END

USER_HEAD = "#!/bin/bash\n# my own setup\nexport FOO=1\n\n"
USER_TAIL = "echo hello   \n\talias ll='ls -l'\n# no newline at the end"


def shellcheck() -> str:
    found = shutil.which("shellcheck")
    if found is None:
        pytest.fail("shellcheck is not installed: run the tests with scripts/test.sh, which "
                    "installs it.", pytrace=False)
    return found


def bash_syntax_ok(path: Path) -> None:
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def sh_syntax_ok(path: Path) -> None:
    """POSIX sh (dash, Debian's /bin/sh) accepts it: no bash arrays or [[ ]]."""
    dash = shutil.which("dash") or shutil.which("sh")
    assert dash is not None
    done = subprocess.run([dash, "-n", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def dir_assignment(block: str) -> str:
    lines = [line.strip() for line in block.splitlines() if line.strip().startswith("dir=")]
    assert len(lines) == 1, block
    return lines[0]


def evaluate_dir(block: str, home: str, cwd: Path) -> str:
    """What bash assigns to $dir in the block, with HOME set (run in cwd)."""
    script = f'{dir_assignment(block)}; printf %s "$dir"'
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                          cwd=cwd, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_new_file_gets_shebang_and_block(tmp_path: Path) -> None:
    path = tmp_path / "init.sh"
    initscript.write(path, install_dir="~/persistent-home/my-tools")
    text = path.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert text.count(BEGIN) == 1
    assert text.count(END) == 1
    assert text.endswith(initscript.render_block("~/persistent-home/my-tools"))
    assert path.stat().st_mode & 0o777 == 0o755
    assert "\r" not in text
    bash_syntax_ok(path)
    sh_syntax_ok(path)


def test_empty_existing_file_is_treated_as_new() -> None:
    block = initscript.render_block("~/x")
    assert initscript.merge_block("  \n", block).startswith("#!/bin/sh\n")


def test_existing_file_without_block_keeps_every_line(tmp_path: Path) -> None:
    path = tmp_path / "init.sh"
    original = USER_HEAD + USER_TAIL
    path.write_text(original)
    path.chmod(0o700)
    initscript.write(path, install_dir="~/persistent-home/my-tools")
    text = path.read_text()
    # Every byte of the user's file is still there, in front of the appended block.
    assert text.startswith(original + "\n")
    assert text.endswith(initscript.render_block("~/persistent-home/my-tools"))
    assert text.count(BEGIN) == 1
    assert path.stat().st_mode & 0o777 == 0o700, "the file's mode was not kept"
    bash_syntax_ok(path)


def test_existing_block_is_replaced_in_place(tmp_path: Path) -> None:
    path = tmp_path / "init.sh"
    stale = f"{BEGIN}\necho an old wheelferry block\n{END}\n"
    path.write_bytes((USER_HEAD + stale + USER_TAIL).encode())
    initscript.write(path, install_dir="/opt/tools")
    new_block = initscript.render_block("/opt/tools")
    assert path.read_bytes() == (USER_HEAD + new_block + USER_TAIL).encode()
    # Writing again with the same settings changes nothing; one block remains.
    initscript.write(path, install_dir="/opt/tools")
    assert path.read_bytes() == (USER_HEAD + new_block + USER_TAIL).encode()
    # Another install dir replaces the block only.
    initscript.write(path, install_dir="~/elsewhere")
    assert path.read_bytes() == (USER_HEAD + initscript.render_block("~/elsewhere")
                                 + USER_TAIL).encode()
    assert "echo an old wheelferry block" not in path.read_text()


@pytest.mark.parametrize("existing", [
    f"echo a\n{BEGIN}\necho b\n",
    f"echo a\n{END}\necho b\n",
    f"{END}\n{BEGIN}\n",
    f"{BEGIN}\n{END}\n{BEGIN}\n{END}\n",
    f"{BEGIN}\n{BEGIN}\n{END}\n",
])
def test_broken_markers_are_refused(existing: str, tmp_path: Path) -> None:
    with pytest.raises(InitScriptError, match="marker lines"):
        initscript.merge_block(existing, initscript.render_block("~/x"))
    path = tmp_path / "init.sh"
    path.write_text(existing)
    with pytest.raises(InitScriptError) as raised:
        initscript.write(path, install_dir="~/x")
    assert raised.value.exit_code == 8
    assert path.read_text() == existing, "a refused file was changed"
    assert [p.name for p in tmp_path.iterdir()] == ["init.sh"], "a temporary file was left"


HOME = "/home/some user"


@pytest.mark.parametrize(("install_dir", "expected"), [
    ("~/persistent-home/my-tools", f"{HOME}/persistent-home/my-tools"),
    ("$HOME/persistent-home/my-tools", f"{HOME}/persistent-home/my-tools"),
    ("~/persistent-home/my-tools/", f"{HOME}/persistent-home/my-tools"),
    ("~", HOME),
    ("$HOME", HOME),
    ("~/my tools", f"{HOME}/my tools"),
    ("~/it's \"quoted\"", f"{HOME}/it's \"quoted\""),
    ("~/$(rm -rf ~)", f"{HOME}/$(rm -rf ~)"),
    ("~/`touch pwned`; rm -rf ~", f"{HOME}/`touch pwned`; rm -rf ~"),
    ("/opt/a b; echo pwned", "/opt/a b; echo pwned"),
    ("/opt/$(rm -rf ~)/x", "/opt/$(rm -rf ~)/x"),
    ("relative/`id`/'x'", "relative/`id`/'x'"),
    # Only a LEADING ~/ or $HOME/ is the home folder; anywhere else they are literal.
    ("/opt/~/tools", "/opt/~/tools"),
    ("/opt/$HOME/tools", "/opt/$HOME/tools"),
    ("~user/tools", "~user/tools"),
    ("~/a/~/b", f"{HOME}/a/~/b"),
    ("$HOMEX/tools", "$HOMEX/tools"),
])
def test_install_dir_is_quoted(install_dir: str, expected: str, tmp_path: Path) -> None:
    block = initscript.render_block(install_dir)
    assert evaluate_dir(block, HOME, tmp_path) == expected
    path = tmp_path / "init.sh"
    initscript.write(path, install_dir=install_dir)
    bash_syntax_ok(path)
    # Nothing in the value ran while bash evaluated it.
    assert not (tmp_path / "pwned").exists()
    # shellcheck may note (info) that a quoted `$(...)` does not expand: that is the point.
    done = subprocess.run([shellcheck(), "--severity=warning", str(path)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout


def test_quote_install_dir_values() -> None:
    assert initscript.quote_install_dir("~/persistent-home/my-tools") == \
        '"$HOME"/persistent-home/my-tools'
    assert initscript.quote_install_dir("/opt/tools") == "/opt/tools"
    assert initscript.quote_install_dir("~") == '"$HOME"'


@pytest.mark.parametrize("install_dir", ["~/persistent-home/my-tools", "/opt/my tools",
                                         "$HOME/a-b/c_d.e"])
def test_generated_script_passes_shellcheck(install_dir: str, tmp_path: Path) -> None:
    path = tmp_path / "init.sh"
    path.write_text(USER_HEAD)
    initscript.write(path, install_dir=install_dir)
    bash_syntax_ok(path)
    done = subprocess.run([shellcheck(), "--shell=bash", str(path)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout


def test_block_checks_before_installing_offline() -> None:
    block = initscript.render_block("~/persistent-home/my-tools")
    check = block.index("        if not upload_is_intact(folder, text, sums_hash):")
    install = block.index('command = [sys.executable, "-m", "pip", "install", "--no-index"')
    assert check < install
    assert '"--require-hashes"' in block
    assert 'SUMS = "SHA256SUMS"\nREQUIREMENTS = "wheelferry-requirements.txt"' in block


def test_a_failure_returns_and_the_script_goes_on() -> None:
    """The block never stops a `set -e` script: a failure is reported, then the script goes on."""
    block = initscript.render_block("~/x")
    assert "wheelferry_install || echo " in block
    lines = [line for line in block.splitlines() if line.startswith("wheelferry_install ")]
    assert len(lines) == 1
    assert "exit" not in lines[0]


@pytest.mark.parametrize("head", ["#!/bin/sh\nset -e\n", "#!/bin/bash\nset -eu\n"])
def test_block_appended_to_a_strict_script_passes_shellcheck_as_that_shell(
        head: str, tmp_path: Path) -> None:
    path = tmp_path / "init.sh"
    path.write_text(head + "echo mine\n")
    initscript.write(path, install_dir="~/persistent-home/my-tools")
    shell = "sh" if "/sh" in head.splitlines()[0] else "bash"
    done = subprocess.run([shellcheck(), f"--shell={shell}", str(path)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout
    if shell == "sh":
        sh_syntax_ok(path)
    else:
        bash_syntax_ok(path)


def test_a_block_from_before_install_once_is_replaced_in_place(tmp_path: Path) -> None:
    """An init.sh written by the version that installed into ~/.local at every start (kept
    verbatim in tests/fixtures) gets the new block in its place; the user's lines stay."""
    old = (Path(__file__).parents[2] / "fixtures" / "init_sh_before_issue_19.sh").read_text()
    assert "--user" in old
    path = tmp_path / "init.sh"
    path.write_text(old)
    initscript.write(path, install_dir="~/persistent-home/my-tools")
    text = path.read_text()
    head, tail = old.split(BEGIN)[0], old.split(END + "\n")[1]
    assert text == head + initscript.render_block("~/persistent-home/my-tools") + tail
    assert "--user" not in text
    bash_syntax_ok(path)


def test_the_installer_carries_the_everywhere_pieces_it_imports_ahead_of_it() -> None:
    installer = initscript.installer_source()
    assert installer.index("def sha256_file(") < installer.index("def upload_is_intact(")
    assert "from wheelferry" not in installer


@pytest.mark.parametrize(("source", "says"), [
    ("from wheelferry.everywhere.checksums import sums_entries\n\n\n"
     "def sha256_file() -> None:\n    pass\n", "sha256_file is defined in"),
    ("from wheelferry.onplatform.install_link import link\n", "imports link from"),
])
def test_pasted_modules_share_one_namespace_whole(
        source: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pasted together, a name defined twice would replace the first, and a name imported
    from a module that is not pasted would be missing: neither makes a program."""
    (tmp_path / "pasted_probe.py").write_text(f"from __future__ import annotations\n\n{source}")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("pasted_probe")
    try:
        with pytest.raises(AssertionError, match=says):
            initscript.pasted_source(module)
    finally:
        sys.modules.pop("pasted_probe", None)
