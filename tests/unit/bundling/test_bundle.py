"""bundle.py: what goes into a bundle (full, and a delta against the SHA256SUMS already on the
platform), the exact payload size known before writing, the header's offsets and sha256, the
wheelhouse checked as it is packed, and where a delta's `--since last` comes from."""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
from pathlib import Path

import pytest
from tests.support import project_options

from wheelferry.bundling import bundle, bundlescript
from wheelferry.core.errors import BundleError
from wheelferry.project import manifest as mf
from wheelferry.proving import state

WHEELS = {
    "alpha-1.0-py3-none-any.whl": b"alpha wheel " * 100,
    "beta-2.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl": os.urandom(5000),
    "gamma-3.0-py3-none-any.whl": b"",
}
METADATA = {mf.MANIFEST: b'{"format": 1}\n', mf.REQUIREMENTS: b"alpha==1.0\n"}
# A name over ustar's 100 characters: the payload needs a pax header for it.
LONG = ("a-very-long-distribution-name-that-goes-on-and-on-" * 2) + "-1.0-py3-none-any.whl"


def write_wheelhouse(folder: Path, files: dict[str, bytes]) -> Path:
    """A wheelhouse as far as a bundle cares: the files and SHA256SUMS over them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    entries = [(name, hashlib.sha256(data).hexdigest()) for name, data in files.items()]
    (folder / mf.SUMS).write_text(mf.sums_text(entries))
    return folder


def sums_and_sizes(folder: Path) -> tuple[bytes, dict[str, int]]:
    return ((folder / mf.SUMS).read_bytes(),
            {path.name: path.stat().st_size for path in folder.iterdir()})


def header_values(data: bytes) -> dict[str, str]:
    """The header's variable lines (name=value) before the first function."""
    head = data[: data.index(b"say() {")].decode()
    return dict(re.findall(r"^([a-z_0-9]+)=(.*)$", head, flags=re.MULTILINE))


def written(tmp_path: Path, files: dict[str, bytes], *, since: bytes | None = None,
            install_dir: str = "~/persistent-home/my-tools") -> tuple[bundle.BundlePlan, bytes]:
    wheelhouse = write_wheelhouse(tmp_path / "wheelhouse", files)
    sums, sizes = sums_and_sizes(wheelhouse)
    plan = bundle.plan_bundle(sums=sums, sizes=sizes, since=since, mtime=1_700_000_000)
    output = tmp_path / "wheelferry-bundle.sh"
    bundle.write_bundle(plan, wheelhouse=wheelhouse, output=output, install_dir=install_dir)
    return plan, output.read_bytes()


# -- planning -------------------------------------------------------------------------------------


def test_a_full_bundle_carries_sums_first_then_metadata_then_every_wheel(tmp_path: Path) -> None:
    wheelhouse = write_wheelhouse(tmp_path, {**WHEELS, **METADATA})
    sums, sizes = sums_and_sizes(wheelhouse)
    plan = bundle.plan_bundle(sums=sums, sizes=sizes)
    assert [f.name for f in plan.files] == [mf.SUMS, mf.MANIFEST, mf.REQUIREMENTS,
                                            *sorted(WHEELS)]
    assert plan.kept == ()
    assert not plan.delta
    assert plan.sums_sha256 == hashlib.sha256(sums).hexdigest()
    assert plan.files[0].sha256 == plan.sums_sha256
    assert {f.name: f.size for f in plan.files} == sizes
    assert plan.summary().startswith("a full wheelhouse: 6 files, ")


def test_a_delta_carries_what_the_platform_lacks_and_always_the_metadata(tmp_path: Path) -> None:
    before = write_wheelhouse(tmp_path / "before", {**WHEELS, **METADATA})
    alpha, beta, gamma = sorted(WHEELS)
    after_files = {**WHEELS, **METADATA, mf.MANIFEST: b'{"format": 1, "new": 1}\n',
                   beta: os.urandom(5000),  # rebuilt: same name, another hash
                   "delta-4.0-py3-none-any.whl": b"new"}
    del after_files[gamma]  # dropped: neither carried nor kept
    after = write_wheelhouse(tmp_path / "after", after_files)
    sums, sizes = sums_and_sizes(after)
    plan = bundle.plan_bundle(sums=sums, sizes=sizes, since=(before / mf.SUMS).read_bytes())
    assert [f.name for f in plan.files] == [mf.SUMS, mf.MANIFEST, mf.REQUIREMENTS, beta,
                                            "delta-4.0-py3-none-any.whl"]
    assert [f.name for f in plan.kept] == [alpha]
    assert plan.delta
    assert plan.since_sha256 == hashlib.sha256((before / mf.SUMS).read_bytes()).hexdigest()
    assert plan.wheelhouse_files == 6
    assert "1 wheel(s) kept" in plan.summary()


def test_a_delta_over_the_same_wheelhouse_carries_only_the_metadata(tmp_path: Path) -> None:
    wheelhouse = write_wheelhouse(tmp_path, {**WHEELS, **METADATA})
    sums, sizes = sums_and_sizes(wheelhouse)
    plan = bundle.plan_bundle(sums=sums, sizes=sizes, since=sums)
    assert [f.name for f in plan.files] == [mf.SUMS, mf.MANIFEST, mf.REQUIREMENTS]
    assert sorted(f.name for f in plan.kept) == sorted(WHEELS)


@pytest.mark.parametrize("line", [
    "not-a-hash  alpha-1.0-py3-none-any.whl",
    f"{'0' * 64}  ../escape.whl",
    f"{'0' * 64}  sub/dir.whl",
    f"{'0' * 64}  .hidden.whl",
    f"{'0' * 64}  SHA256SUMS",
])
def test_sums_that_wheelferry_did_not_write_are_refused(line: str) -> None:
    sums = f"{line}\n".encode()
    with pytest.raises(BundleError, match="is not a SHA256SUMS that wheelferry wrote"):
        bundle.plan_bundle(sums=sums, sizes={mf.SUMS: len(sums)})


def test_a_since_file_that_is_not_sha256sums_is_named(tmp_path: Path) -> None:
    wheelhouse = write_wheelhouse(tmp_path, dict(WHEELS))
    sums, sizes = sums_and_sizes(wheelhouse)
    with pytest.raises(BundleError, match="the --since file is not a SHA256SUMS"):
        bundle.plan_bundle(sums=sums, sizes=sizes, since=b"<html>a login page</html>\n")


# -- the file -------------------------------------------------------------------------------------


def test_payload_offset_size_and_sha256_in_the_header_are_exact(tmp_path: Path) -> None:
    files = {**WHEELS, **METADATA, LONG: b"long name"}
    plan, data = written(tmp_path, files)
    values = header_values(data)
    offset, size = int(values["payload_offset"]), int(values["payload_size"])
    assert offset + size == len(data)
    assert size == bundle.payload_size(plan)
    # The payload starts right after the marker line, the script's last line.
    assert data[:offset].endswith(f"\n{bundlescript.MARKER}\n".encode())
    payload = data[offset:]
    assert values["payload_sha256"] == hashlib.sha256(payload).hexdigest()
    assert values["sums_sha256"] == plan.sums_sha256
    assert values["install_dir"] == '"$HOME"/persistent-home/my-tools'
    # The payload is a plain (uncompressed) tar: every planned file, in order, byte for byte.
    with (tmp_path / "wheelferry-bundle.sh").open("rb") as handle:
        handle.seek(offset)
        with tarfile.open(fileobj=handle, mode="r:") as archive:
            members = archive.getmembers()
            assert [m.name for m in members] == [f.name for f in plan.files]
            for member in members:
                assert member.isreg()
                assert member.mode == 0o644
                extracted = archive.extractfile(member)
                assert extracted is not None
                assert extracted.read() == (tmp_path / "wheelhouse" / member.name).read_bytes()


def test_the_script_is_text_with_unix_line_ends(tmp_path: Path) -> None:
    _, data = written(tmp_path, {**WHEELS, **METADATA})
    script = data[: int(header_values(data)["payload_offset"])]
    assert script.startswith(b"#!/bin/sh\n")
    assert b"\r" not in script
    assert b"\0" not in script
    script.decode("utf-8")
    assert (tmp_path / "wheelferry-bundle.sh").stat().st_mode & 0o777 == 0o755


def test_the_same_wheelhouse_gives_the_same_bundle(tmp_path: Path) -> None:
    _, first = written(tmp_path / "one", {**WHEELS, **METADATA})
    _, second = written(tmp_path / "two", {**WHEELS, **METADATA})
    assert first == second


def test_a_delta_header_names_what_it_was_made_over(tmp_path: Path) -> None:
    since = f"{'1' * 64}  old-1.0-py3-none-any.whl\n".encode()
    plan, data = written(tmp_path, {**WHEELS, **METADATA}, since=since)
    assert plan.since_sha256 is not None
    assert f"a delta over the wheelhouse whose SHA256SUMS has sha256 {plan.since_sha256}".encode(
    ) in data[:2000]


def test_a_file_that_changed_size_since_planning_stops_the_bundle_and_leaves_nothing(
        tmp_path: Path) -> None:
    wheelhouse = write_wheelhouse(tmp_path / "wheelhouse", {**WHEELS, **METADATA})
    sums, sizes = sums_and_sizes(wheelhouse)
    plan = bundle.plan_bundle(sums=sums, sizes=sizes)
    name = sorted(WHEELS)[0]
    with (wheelhouse / name).open("ab") as handle:
        handle.write(b"more")
    output = tmp_path / "out" / "wheelferry-bundle.sh"
    output.parent.mkdir()
    with pytest.raises(BundleError, match=f"{name} has 1204 bytes, not the 1200"):
        bundle.write_bundle(plan, wheelhouse=wheelhouse, output=output, install_dir="~/x")
    assert list(output.parent.iterdir()) == []


# -- the project: make, --since -------------------------------------------------------------------


def test_make_needs_a_wheelhouse_and_an_output_outside_it(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "alpha\n"})
    with pytest.raises(BundleError, match="there is no wheelhouse at"):
        bundle.make(options, output=tmp_path / "b.sh", since=None)
    write_wheelhouse(options.wheelhouse, dict(WHEELS))
    with pytest.raises(BundleError, match="give a file outside the wheelhouse"):
        bundle.make(options, output=options.wheelhouse / "b.sh", since=None)
    with pytest.raises(BundleError, match="does not exist"):
        bundle.make(options, output=tmp_path / "no-such-folder" / "b.sh", since=None)
    (options.wheelhouse / sorted(WHEELS)[0]).unlink()
    with pytest.raises(BundleError, match="which is missing from"):
        bundle.make(options, output=tmp_path / "b.sh", since=None)


def test_since_last_is_the_sums_the_last_bundle_packed(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "alpha\n"})
    assert bundle.since_sums(options, None) is None
    with pytest.raises(BundleError, match="no bundle of this project was made yet"):
        bundle.since_sums(options, "last")
    first, second = b"first sums\n", b"second sums\n"
    state.record_bundled_sums(options, first)
    copy = state.record_bundled_sums(options, second)
    assert copy.name == f"{hashlib.sha256(second).hexdigest()}.SHA256SUMS"
    assert bundle.since_sums(options, "last") == second
    assert sorted(p.name for p in state.bundles_dir(options).iterdir()) == sorted(
        [f"{hashlib.sha256(first).hexdigest()}.SHA256SUMS", copy.name, "last"])
    given = tmp_path / "from-the-platform-SHA256SUMS"
    given.write_bytes(first)
    assert bundle.since_sums(options, str(given)) == first
    with pytest.raises(BundleError, match="cannot read the --since file"):
        bundle.since_sums(options, str(tmp_path / "missing"))
