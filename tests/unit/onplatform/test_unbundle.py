"""unbundle.py, the bundle's program on the platform, run here on this machine's Python with a
home folder in tmp: init.sh merged by initscript.merge_block's rules; a payload that is not what
wheelferry packs is refused; a delta checks what it keeps first; a full bundle then a delta give
exactly the new wheelhouse and init-script's own init.sh; checks that fail change nothing. (The
install it runs at the end is replaced by a stand-in here; the replica tests run it for real.)"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from wheelferry.bundling import bundle
from wheelferry.core.errors import InitScriptError
from wheelferry.onplatform import unbundle
from wheelferry.onplatform.platformdir import Refused
from wheelferry.project import manifest as mf
from wheelferry.target import initscript

INSTALL_DIR = "~/persistent-home/my-tools"
SCRIPT = unbundle.InitScript(
    begin=initscript.BEGIN, end=initscript.END, new_file_head=initscript.NEW_FILE_HEAD,
    block=initscript.render_block(INSTALL_DIR), installer=initscript.installer_source())
BLOCK = SCRIPT.block
MERGE_CASES = {
    "none": None,
    "blank": " \n\n",
    "own lines": "#!/bin/bash\nexport FOO=1\n",
    "no newline at the end": "echo hi",
    "block in the middle": f"echo a\n{BLOCK}echo b\n",
    "old block, indented markers": f"echo a\n  {initscript.BEGIN}\nold\n{initscript.END}  \n",
    "two blocks": f"{BLOCK}{BLOCK}",
    "end only": f"echo a\n{initscript.END}\n",
    "reversed": f"{initscript.END}\n{initscript.BEGIN}\n",
    "CR line ends": "echo a\r\necho b\r\n",
}


@pytest.mark.parametrize("existing", MERGE_CASES.values(), ids=MERGE_CASES.keys())
def test_init_sh_is_merged_by_init_scripts_own_rules(existing: str | None) -> None:
    try:
        expected: str | None = initscript.merge_block(existing, BLOCK)
    except InitScriptError:
        expected = None
    if expected is None:
        with pytest.raises(Refused, match="marker lines, not one pair in order"):
            unbundle.merge_block(existing, SCRIPT, Path("init.sh"))
    else:
        assert unbundle.merge_block(existing, SCRIPT, Path("init.sh")) == expected


# -- a payload wheelferry did not pack ------------------------------------------------------------


def tar_of(*members: tuple[str, bytes, bytes]) -> bytes:
    """A tar of (name, type, data) members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            if kind == tarfile.SYMTYPE:
                info.linkname = "/etc/passwd"
            archive.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buffer.getvalue()


def sums_of(files: dict[str, bytes]) -> bytes:
    return mf.sums_text((n, hashlib.sha256(d).hexdigest()) for n, d in files.items()).encode()


WHEEL = ("alpha-1.0-py3-none-any.whl", b"alpha")
SUMS = sums_of(dict([WHEEL]))
REG, SYM = tarfile.REGTYPE, tarfile.SYMTYPE
PAYLOADS = {
    "a symlink": tar_of(("SHA256SUMS", REG, SUMS), (WHEEL[0], SYM, b"")),
    "a path that climbs out": tar_of(("SHA256SUMS", REG, SUMS), ("../" + WHEEL[0], REG, b"x")),
    "a folder": tar_of(("SHA256SUMS", REG, SUMS), ("sub/" + WHEEL[0], REG, WHEEL[1])),
    "SHA256SUMS not first": tar_of((*WHEEL, REG), ("SHA256SUMS", REG, SUMS)),
    "a file SHA256SUMS does not list": tar_of(("SHA256SUMS", REG, SUMS), (*WHEEL, REG),
                                              ("extra.whl", REG, b"x")),
    "another SHA256SUMS": tar_of(("SHA256SUMS", REG, SUMS + b"\n"), (*WHEEL, REG)),
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_payload_wheelferry_did_not_pack_is_refused(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "payload.tar"
    path.write_bytes(b"#!/bin/sh\n" + payload)
    header = unbundle.Header(bundle=path, install_dir=tmp_path / "x", offset=10,
                             size=len(payload), sums_sha256=hashlib.sha256(SUMS).hexdigest())
    with path.open("rb") as handle:
        handle.seek(header.offset)
        with unbundle.open_payload(handle) as archive, pytest.raises(Refused):
            unbundle.read_payload(archive, header)


# -- the whole program, without the install -------------------------------------------------


class Platform:
    """A home with persistent-home/ in tmp, and the bundle's program run against it."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.home = root / "home"
        (self.home / "persistent-home").mkdir(parents=True)
        self.tools = self.home / "persistent-home" / "my-tools"
        self.init = self.home / "persistent-home" / "init.sh"
        self.installs: list[list[str]] = []
        monkeypatch.setenv("HOME", str(self.home))
        monkeypatch.setattr(subprocess, "run", self._install)

    def _install(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        assert kwargs["input"] == SCRIPT.installer.encode()
        self.installs.append(command)
        return subprocess.CompletedProcess(command, 0)

    def run(self, bundle_file: Path) -> int:
        data = bundle_file.read_bytes()
        values = dict(line.split("=", 1) for line in data[:2000].decode("ascii", "replace")
                      .splitlines() if line.startswith(("payload_", "sums_sha256=")))
        argv = [str(bundle_file), str(self.tools), values["payload_offset"],
                values["payload_size"], values["sums_sha256"]]
        return unbundle.main(argv, SCRIPT)

    def everything(self) -> dict[str, tuple[int, bytes]]:
        root = self.home / "persistent-home"
        return {str(p.relative_to(root)): (p.stat().st_mtime_ns,
                                           p.read_bytes() if p.is_file() else b"")
                for p in [root, *root.rglob("*")]}


def make_bundle(folder: Path, files: dict[str, bytes], since: bytes | None = None) -> Path:
    wheelhouse = folder / "wheelhouse"
    wheelhouse.mkdir(parents=True)
    for name, data in files.items():
        (wheelhouse / name).write_bytes(data)
    (wheelhouse / mf.SUMS).write_bytes(sums_of(files))
    sizes = {path.name: path.stat().st_size for path in wheelhouse.iterdir()}
    plan = bundle.plan_bundle(sums=(wheelhouse / mf.SUMS).read_bytes(), sizes=sizes,
                              since=since)
    output = folder / "wheelferry-bundle.sh"
    bundle.write_bundle(plan, wheelhouse=wheelhouse, output=output, install_dir=INSTALL_DIR)
    return output


def same_files(folder: Path, other: Path) -> bool:
    def files(root: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in root.iterdir()}
    return files(folder) == files(other)


V1 = {"alpha-1.0-py3-none-any.whl": b"alpha", "beta-1.0-py3-none-any.whl": b"beta 1",
      mf.MANIFEST: b"{1}\n", mf.REQUIREMENTS: b"alpha==1.0\nbeta==1.0\n"}
V2 = {"alpha-1.0-py3-none-any.whl": b"alpha", "gamma-1.0-py3-none-any.whl": b"gamma",
      mf.MANIFEST: b"{2}\n", mf.REQUIREMENTS: b"alpha==1.0\ngamma==1.0\n"}


def test_a_full_bundle_then_a_delta_give_exactly_the_new_wheelhouse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    platform = Platform(tmp_path, monkeypatch)
    platform.init.write_text("#!/bin/bash\necho mine\n")
    first = make_bundle(tmp_path / "v1", V1)
    assert platform.run(first) == 0
    assert same_files(platform.tools, tmp_path / "v1" / "wheelhouse")
    assert platform.init.read_text() == initscript.merge_block("#!/bin/bash\necho mine\n", BLOCK)
    assert platform.installs == [[sys.executable, "-", str(platform.tools)]]

    delta = make_bundle(tmp_path / "v2", V2, since=sums_of(V1))
    alpha = platform.tools / "alpha-1.0-py3-none-any.whl"
    inode = alpha.stat().st_ino
    assert platform.run(delta) == 0
    assert same_files(platform.tools, tmp_path / "v2" / "wheelhouse")
    assert alpha.stat().st_ino == inode, "the kept wheel was hard-linked, not carried"
    assert sorted(os.listdir(platform.tools.parent)) == ["init.sh", "my-tools"]
    err = capsys.readouterr().err
    assert "kept 1 wheel(s) from the wheelhouse already there (1 hard-linked)" in err
    assert "already holds this wheelferry block (unchanged)" in err


@pytest.mark.parametrize("previous", ["none", "a kept wheel altered", "a kept wheel missing"])
def test_a_delta_over_the_wrong_wheelhouse_is_refused_and_nothing_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        previous: str) -> None:
    platform = Platform(tmp_path, monkeypatch)
    if previous != "none":
        assert platform.run(make_bundle(tmp_path / "v1", V1)) == 0
        alpha = platform.tools / "alpha-1.0-py3-none-any.whl"
        if previous == "a kept wheel missing":
            alpha.unlink()
        else:
            alpha.write_bytes(b"alpha, altered")
    capsys.readouterr()
    before = platform.everything()
    assert platform.run(make_bundle(tmp_path / "v2", V2, since=sums_of(V1))) == unbundle.REFUSED
    err = capsys.readouterr().err
    assert "refused: this is a delta bundle and" in err
    word = {"none": "missing", "a kept wheel missing": "missing",
            "a kept wheel altered": "different"}[previous]
    assert f"alpha-1.0-py3-none-any.whl ({word})" in err
    assert "Nothing was changed." in err
    assert platform.everything() == before


def test_broken_markers_in_init_sh_are_refused_before_anything_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform = Platform(tmp_path, monkeypatch)
    platform.init.write_text(f"{initscript.BEGIN}\necho half a block\n")
    before = platform.everything()
    assert platform.run(make_bundle(tmp_path / "v1", V1)) == unbundle.REFUSED
    assert platform.everything() == before
    assert platform.installs == []


@pytest.mark.parametrize("install_dir", ["home", "persistent-home", "root"])
def test_an_install_dir_that_would_replace_the_home_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, install_dir: str) -> None:
    platform = Platform(tmp_path, monkeypatch)
    folder = {"home": platform.home, "persistent-home": platform.home / "persistent-home",
              "root": Path("/")}[install_dir]
    with pytest.raises(Refused, match="would replace"):
        unbundle.check_places(folder, platform.home)


def test_without_persistent_home_it_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Refused, match="run this on the platform"):
        unbundle.check_places(tmp_path / "persistent-home" / "x", tmp_path)


def test_leftovers_of_a_killed_run_are_removed_by_the_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform = Platform(tmp_path, monkeypatch)
    parent = platform.tools.parent
    (parent / ".my-tools.wheelferry-staging-0123456789ab").mkdir()
    (parent / ".my-tools.wheelferry-staging-0123456789ab" / "half.whl").write_bytes(b"ha")
    # Killed between the swap's two renames: the old wheelhouse is aside, nothing at my-tools.
    shutil.copytree(make_bundle(tmp_path / "v1", V1).parent / "wheelhouse",
                    parent / ".my-tools.wheelferry-old-0123456789ab")
    assert platform.run(make_bundle(tmp_path / "v2", V2, since=sums_of(V1))) == 0
    assert sorted(os.listdir(parent)) == ["init.sh", "my-tools"]
    assert same_files(platform.tools, tmp_path / "v2" / "wheelhouse")


def test_a_wheel_that_does_not_match_sha256sums_is_refused_on_the_platform(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The bundle checks sizes as it packs (hashing every file too would double its CPU time);
    a wheel altered in place since the build is caught here, before anything changes."""
    platform = Platform(tmp_path, monkeypatch)
    assert platform.run(make_bundle(tmp_path / "v1", V1)) == 0
    before = platform.everything()
    wheelhouse = tmp_path / "v2" / "wheelhouse"
    wheelhouse.mkdir(parents=True)
    for name, data in V2.items():
        (wheelhouse / name).write_bytes(data)
    (wheelhouse / mf.SUMS).write_bytes(sums_of(V2))
    (wheelhouse / "gamma-1.0-py3-none-any.whl").write_bytes(b"GAMMA")  # same size, altered
    sizes = {path.name: path.stat().st_size for path in wheelhouse.iterdir()}
    plan = bundle.plan_bundle(sums=sums_of(V2), sizes=sizes)
    bundle_file = tmp_path / "v2" / "wheelferry-bundle.sh"
    bundle.write_bundle(plan, wheelhouse=wheelhouse, output=bundle_file, install_dir=INSTALL_DIR)
    capsys.readouterr()
    assert platform.run(bundle_file) == unbundle.REFUSED
    assert "gamma-1.0-py3-none-any.whl does not match SHA256SUMS" in capsys.readouterr().err
    # The staging folder it had begun is gone again (the folder's own time shows it was there).
    assert {path: data for path, (_, data) in platform.everything().items()} == {
        path: data for path, (_, data) in before.items()}
