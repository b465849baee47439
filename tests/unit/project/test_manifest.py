"""manifest: what a wheelhouse holds besides its wheels: the manifest, the install requirements
and SHA256SUMS, written and read back."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from tests.support import sha

from wheelferry.project import manifest as mf
from wheelferry.target import initscript

TARGET = mf.TargetRecord(python="3.10", version="3.10.14", image="python:3.10",
                         image_id="sha256:" + sha("image"), image_digest="python@sha256:d",
                         tags=("cp310-cp310-manylinux_2_17_x86_64", "py3-none-any"))
BUILT = mf.WheelRecord(
    name="wferryfx-legacy", version="1.0", file="wferryfx_legacy-1.0-cp310-cp310-linux_x86_64.whl",
    sha256=sha("legacy-wheel"), size=2048, origin="built",
    sdist=mf.SdistRecord("wferryfx-legacy-1.0.tar.gz", sha("legacy-sdist")),
    build_requires=("wferryfx_buildhelper==2.0", "setuptools==80.0"), build_key="k" * 64,
    locks=("requirements/base.txt",))
DOWNLOADED = mf.WheelRecord(
    name="wferryfx-buildhelper", version="2.0", file="wferryfx_buildhelper-2.0-py3-none-any.whl",
    sha256=sha("helper-2"), size=1024, origin="downloaded", locks=("requirements/base.txt",))
MANIFEST = mf.Manifest(
    target=TARGET,
    locks=(("requirements/base.txt", sha("base.txt")),
           ("requirements/wheelferry-build.txt", sha("build.txt"))),
    wheels=(BUILT, DOWNLOADED))


def test_the_manifest_reads_back_as_it_was_written() -> None:
    text = MANIFEST.to_json()
    assert mf.Manifest.from_json(text) == MANIFEST
    assert mf.Manifest.from_json(text).to_json() == text
    assert MANIFEST.wheel("wferryfx-legacy") == BUILT
    assert MANIFEST.wheel("wferryfx-pure") is None
    assert MANIFEST.size == 3072


def test_a_missing_or_damaged_manifest_reads_as_none(tmp_path: Path) -> None:
    assert mf.read_manifest(tmp_path) is None
    (tmp_path / mf.MANIFEST).write_text('{"format": 1, "wheels": []}')  # no target, no locks
    assert mf.read_manifest(tmp_path) is None
    (tmp_path / mf.MANIFEST).write_text(MANIFEST.to_json().replace('"format": 1', '"format": 99'))
    assert mf.read_manifest(tmp_path) is None
    # A wheel that came neither from the index nor from its sdist: a damaged manifest.
    assert '"origin": "built"' in MANIFEST.to_json()
    (tmp_path / mf.MANIFEST).write_text(MANIFEST.to_json().replace('"origin": "built"',
                                                                   '"origin": "elsewhere"'))
    assert mf.read_manifest(tmp_path) is None
    (tmp_path / mf.MANIFEST).write_text(MANIFEST.to_json())
    assert mf.read_manifest(tmp_path) == MANIFEST


def test_the_install_requirements_pin_each_wheel_by_its_own_hash() -> None:
    assert mf.requirements_text(MANIFEST.wheels) == (
        f"wferryfx-buildhelper==2.0 --hash=sha256:{sha('helper-2')}\n"
        f"wferryfx-legacy==1.0 --hash=sha256:{sha('legacy-wheel')}\n")


def test_parse_sums_reads_text_and_binary_mode_lines() -> None:
    text = (f"{sha('a')}  wferryfx_pure-1.0-py3-none-any.whl\n"
            f"{sha('b')} *wheelferry-manifest.json\n"
            "\n")
    assert mf.parse_sums(text) == {"wferryfx_pure-1.0-py3-none-any.whl": sha("a"),
                                   "wheelferry-manifest.json": sha("b")}
    entries = [("b.whl", sha("b")), ("a.whl", sha("a"))]
    assert mf.sums_text(entries) == f"{sha('a')}  a.whl\n{sha('b')}  b.whl\n"
    assert mf.parse_sums(mf.sums_text(entries)) == dict(entries)


def test_write_metadata_lists_every_file_so_sha256sum_checks_them(tmp_path: Path) -> None:
    wheels = []
    for record in MANIFEST.wheels:
        data = record.name.encode() * 100
        (tmp_path / record.file).write_bytes(data)
        wheels.append(replace(record, sha256=hashlib.sha256(data).hexdigest(), size=len(data)))
    manifest = mf.Manifest(target=TARGET, locks=MANIFEST.locks, wheels=tuple(wheels))
    mf.write_metadata(tmp_path, manifest)
    listed = mf.parse_sums((tmp_path / mf.SUMS).read_text())
    assert set(listed) == {p.name for p in tmp_path.iterdir()} - {mf.SUMS}
    check = subprocess.run(["sha256sum", "--strict", "-c", mf.SUMS], cwd=tmp_path,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert mf.read_manifest(tmp_path) == manifest



def test_the_files_written_for_the_platform_never_go_through_text_mode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Text mode writes os.linesep: CRLF on a Windows host, which the platform's bash and pip
    read wrongly. The manifest, the install requirements, SHA256SUMS and init.sh are written
    as bytes with "\\n" on any host."""
    def no_text_mode(self: Path, *args: object, **kwargs: object) -> int:
        raise AssertionError(f"{self.name} written in text mode")

    monkeypatch.setattr(Path, "write_text", no_text_mode)
    record = mf.WheelRecord(name="pkg", version="1.0", file="pkg-1.0-py3-none-any.whl",
                            sha256="a" * 64, size=1, origin="downloaded")
    (tmp_path / record.file).write_bytes(b"x")
    manifest = mf.Manifest(
        target=mf.TargetRecord(python="3.10", version="3.10.14", image="python:3.10",
                               image_id="sha256:1", image_digest="d", tags=("py3-none-any",)),
        locks=(("requirements/base.txt", "b" * 64),), wheels=(record,))
    mf.write_metadata(tmp_path, manifest)
    initscript.write(tmp_path / "init.sh", install_dir="~/persistent-home/my-tools")
    for name in (mf.MANIFEST, mf.REQUIREMENTS, mf.SUMS, "init.sh"):
        data = (tmp_path / name).read_bytes()
        assert b"\r" not in data, name
        assert data.endswith(b"\n"), name
