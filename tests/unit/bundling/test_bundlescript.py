"""bundlescript.py: the installer at the head of a bundle is POSIX sh that sh -n, bash -n and
shellcheck accept for any install dir; it checks its own file (size, then the payload's sha256)
before anything else, refusing a truncated, extended or altered file with nothing changed; it
offers --check and --help; the Python program it hands over is unbundle.py's, self-contained,
with init.sh's block exactly as init-script writes it."""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from wheelferry.bundling import bundle, bundlescript
from wheelferry.everywhere import checksums, folderswap
from wheelferry.onplatform import platformdir, reviewsummary, unbundle
from wheelferry.project import manifest as mf
from wheelferry.target import initscript

INSTALL_DIRS = ("~/persistent-home/my-tools", "$HOME/persistent-home/it's here",
                "/opt/tools with space", "~")
FILES = {"alpha-1.0-py3-none-any.whl": b"alpha" * 3000, mf.MANIFEST: b"{}\n",
         mf.REQUIREMENTS: b"alpha==1.0\n"}


def script_part(install_dir: str, since: str | None = None) -> bytes:
    return bundlescript.render(install_dir=install_dir, payload_size=10240,
                               sums_sha256="a" * 64, since_sha256=since,
                               summary="a full wheelhouse: 3 files, 1.0 KiB").text


def check(tool: list[str], path: Path) -> None:
    done = subprocess.run([*tool, str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("install_dir", INSTALL_DIRS)
@pytest.mark.parametrize("since", [None, "b" * 64], ids=["full", "delta"])
def test_the_script_passes_sh_bash_and_shellcheck(tmp_path: Path, install_dir: str,
                                                   since: str | None) -> None:
    path = tmp_path / "head.sh"
    path.write_bytes(script_part(install_dir, since))
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail("shellcheck is not installed: run the tests with scripts/test.sh, which "
                    "installs it.", pytrace=False)
    dash = shutil.which("dash") or shutil.which("sh")
    assert dash is not None
    check([dash, "-n"], path)
    check(["bash", "-n"], path)
    check([shellcheck, "--shell=sh"], path)


def test_the_install_dir_reaches_the_program_as_the_platform_expands_it(tmp_path: Path) -> None:
    text = script_part("$HOME/persistent-home/it's here").decode()
    line = next(line for line in text.splitlines() if line.startswith("install_dir="))
    done = subprocess.run(["sh", "-c", f'{line}; printf %s "$install_dir"'], text=True,
                          capture_output=True, env={"HOME": "/home/u", "PATH": os.defpath},
                          check=True)
    assert done.stdout == "/home/u/persistent-home/it's here"


def test_the_program_is_self_contained_and_carries_init_scripts_own_block() -> None:
    program = bundlescript.program("~/persistent-home/my-tools")
    tree = ast.parse(program)
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name and name.startswith("wheelferry") for name in imported)
    # The pieces of everywhere/ they import first (one `from __future__`, at the top), then
    # platformdir.py, then unbundle.py.
    heads = [program.index(f'"""{(module.__doc__ or "").splitlines()[0]}') for module in (
        checksums, folderswap, platformdir, unbundle)]
    assert min(heads) == 0
    assert max(heads[:2]) < heads[2] < heads[3]
    assert [node.lineno for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and node.module == "__future__"] == [tree.body[1].lineno]
    assert repr(initscript.render_block("~/persistent-home/my-tools")) in program
    assert repr(initscript.installer_source()) in program
    assert repr(initscript.NEW_FILE_HEAD) in program
    assert initscript.installer_source() in initscript.render_block("~/x")


# -- the file checking itself, on this machine ----------------------------------------------------


@pytest.fixture
def bundle_file(tmp_path: Path) -> Path:
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    for name, data in FILES.items():
        (wheelhouse / name).write_bytes(data)
    (wheelhouse / mf.SUMS).write_text(mf.sums_text(
        (name, hashlib.sha256(data).hexdigest()) for name, data in FILES.items()))
    sizes = {path.name: path.stat().st_size for path in wheelhouse.iterdir()}
    plan = bundle.plan_bundle(sums=(wheelhouse / mf.SUMS).read_bytes(), sizes=sizes)
    output = tmp_path / "wheelferry-bundle.sh"
    bundle.write_bundle(plan, wheelhouse=wheelhouse, output=output,
                        install_dir="~/persistent-home/my-tools")
    return output


def home_with_a_previous_upload(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "persistent-home" / "my-tools").mkdir(parents=True)
    (home / "persistent-home" / "my-tools" / "old.whl").write_bytes(b"old")
    (home / "persistent-home" / "init.sh").write_text("echo mine\n")
    return home


def everything(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every path under folder: (mode, mtime in ns, bytes for files)."""
    return {str(p.relative_to(folder)): (p.stat().st_mode, p.stat().st_mtime_ns,
                                         p.read_bytes() if p.is_file() else b"")
            for p in [folder, *folder.rglob("*")]}


def run(path: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(path), *args], capture_output=True, text=True,
                          env={"HOME": str(home), "PATH": os.environ["PATH"]}, check=False,
                          timeout=60)


def test_check_says_the_file_is_intact_and_changes_nothing(bundle_file: Path,
                                                           tmp_path: Path) -> None:
    home = home_with_a_previous_upload(tmp_path)
    before = everything(home)
    done = run(bundle_file, "--check", home=home)
    assert done.returncode == 0, done.stderr
    assert "this file is intact" in done.stderr
    assert "a full wheelhouse: 4 files" in done.stderr
    assert "--check: nothing was changed" in done.stderr
    assert everything(home) == before


@pytest.mark.parametrize("damage", ["a byte changed", "truncated", "appended", "header"])
def test_a_damaged_file_is_refused_and_nothing_changes(bundle_file: Path, tmp_path: Path,
                                                       damage: str) -> None:
    data = bytearray(bundle_file.read_bytes())
    if damage == "a byte changed":
        data[-12000] ^= 0x01  # inside the wheel's bytes
        says = "this file was altered"
    elif damage == "truncated":
        del data[len(data) // 2:]
        says = "this file is truncated"
    elif damage == "appended":
        data += b"\n"
        says = "more than the"
    else:  # the payload's size in the header, changed by a digit
        text = bytes(data)
        at = text.index(b"\npayload_size=") + len(b"\npayload_size=")
        data[at] = ord("9") if data[at] != ord("9") else ord("8")
        says = "refused"
    bundle_file.write_bytes(bytes(data))
    home = home_with_a_previous_upload(tmp_path)
    before = everything(home)
    for args in ((), ("--check",)):
        done = run(bundle_file, *args, home=home)
        assert done.returncode == 1, done.stderr
        assert says in done.stderr
        assert "Nothing was changed." in done.stderr
        assert "Traceback" not in done.stderr
        assert everything(home) == before


def test_help_and_a_wrong_option(bundle_file: Path, tmp_path: Path) -> None:
    home = home_with_a_previous_upload(tmp_path)
    done = run(bundle_file, "--help", home=home)
    assert done.returncode == 0
    assert "Usage: sh" in done.stdout
    assert f"{home}/persistent-home/my-tools" in done.stdout
    assert "--check   only step 1; nothing changes" in done.stdout
    wrong = run(bundle_file, "--install-everywhere", home=home)
    assert wrong.returncode == 2
    assert "unknown option '--install-everywhere'" in wrong.stderr


def test_piped_into_sh_it_says_how_to_run_it(bundle_file: Path, tmp_path: Path) -> None:
    home = home_with_a_previous_upload(tmp_path)
    before = everything(home)
    done = subprocess.run(["sh", "-s"], input=bundle_file.read_bytes()[:4000],
                          capture_output=True, env={"HOME": str(home), "PATH": os.defpath},
                          check=False)
    assert done.returncode == 1
    assert b"not through a pipe" in done.stderr
    assert everything(home) == before


def test_a_header_carrying_a_review_passes_shellcheck_and_reads_back(tmp_path: Path) -> None:
    review = b'{\n  "a": "$(rm -rf /) `x` \' \\" ;; esac",\n  "b": [1, 2]\n}\n'
    text = bundlescript.render(install_dir="~/persistent-home/my-tools", payload_size=10240,
                               sums_sha256="a" * 64, since_sha256=None, summary="s",
                               carried={"review.json": review, "sbom.cdx.json": b"{}\n"}).text
    path = tmp_path / "head.sh"
    path.write_bytes(text)
    shellcheck = shutil.which("shellcheck")
    assert shellcheck is not None, "shellcheck is not installed: scripts/test.sh installs it"
    check(["bash", "-n"], path)
    check([shellcheck, "--shell=sh"], path)
    assert reviewsummary.carried(text.decode()) == {"review.json": review.decode(),
                                                    "sbom.cdx.json": "{}\n"}


def test_review_on_a_bundle_made_without_one_says_so(bundle_file: Path, tmp_path: Path) -> None:
    home = home_with_a_previous_upload(tmp_path)
    before = everything(home)
    done = run(bundle_file, "--review", home=home)
    assert done.returncode == 1
    assert "this file is intact" in done.stderr
    assert "carries no review" in done.stderr
    assert everything(home) == before
