"""state: what verify proved, remembered in the state folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.support import write_project

from wheelferry.engine.client import ImageInfo
from wheelferry.project.config import load_options
from wheelferry.project.manifest import SUMS
from wheelferry.project.options import Options
from wheelferry.proving import state

IMAGE = ImageInfo(reference="python:3.10", id="sha256:" + "1" * 64, digest="d")


def options_with_wheelhouse(tmp_path: Path, sums: str | None) -> Options:
    options = load_options(write_project(tmp_path / "p", {"base.in": "six\n"},
                                         **{"ca-bundle": "none"}))
    options.wheelhouse.mkdir()
    if sums is not None:
        (options.wheelhouse / SUMS).write_text(sums)
    return options


def test_a_recorded_proof_holds_for_the_same_wheelhouse_only(tmp_path: Path) -> None:
    options = options_with_wheelhouse(tmp_path, "aa  a.whl\n")
    assert not state.is_proven(options)
    state.record_proof(options, IMAGE)
    assert state.is_proven(options)
    record = state.read_proof(options)
    assert record is not None
    assert record.image == "python:3.10"
    assert record.image_id == IMAGE.id
    (options.wheelhouse / SUMS).write_text("bb  b.whl\n")
    assert not state.is_proven(options)


def test_no_wheelhouse_is_never_proven(tmp_path: Path) -> None:
    options = options_with_wheelhouse(tmp_path, None)
    state.record_proof(options, IMAGE)
    assert state.read_proof(options) is None
    assert not state.is_proven(options)


def test_a_damaged_record_reads_as_no_proof(tmp_path: Path) -> None:
    options = options_with_wheelhouse(tmp_path, "aa  a.whl\n")
    state.record_proof(options, IMAGE)
    state.record_path(options).write_text("{not json")
    assert state.read_proof(options) is None
    assert not state.is_proven(options)


def test_another_smoke_test_makes_the_proof_stale(tmp_path: Path) -> None:
    options = options_with_wheelhouse(tmp_path, "aa  a.whl\n")
    smoked = replace(options, proof=replace(options.proof, smoke_test="import six\n"))
    state.record_proof(smoked, IMAGE)
    assert state.is_proven(smoked)
    assert not state.is_proven(options)
    changed = replace(options.proof, smoke_test="import six; six.PY3\n")
    assert not state.is_proven(replace(options, proof=changed))
