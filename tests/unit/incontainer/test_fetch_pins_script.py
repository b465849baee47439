"""incontainer/fetch_pins.py: many pins fetched in a few pip processes, each file matched to its
pin by the project its name states and a sha256 the lock lists for that pin."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.support import incontainer_script


def script() -> ModuleType:
    return incontainer_script("fetch_pins")


def pin(name: str, *contents: bytes) -> dict[str, Any]:
    hashes = " ".join(f"--hash=sha256:{hashlib.sha256(c).hexdigest()}" for c in contents)
    return {"name": name, "line": f"{name}==1.0 {hashes}"}


def test_pins_are_dealt_into_at_most_one_batch_per_job() -> None:
    module = script()
    pins = [pin(f"p{n}", b"x") for n in range(5)]
    dealt = module.batches(pins, 2)
    assert [[p["name"] for p in batch] for batch in dealt] == [["p0", "p2", "p4"], ["p1", "p3"]]
    assert len(module.batches(pins[:1], 4)) == 1
    assert module.batches(pins, 0) == [pins]


def test_each_file_goes_to_the_pin_its_name_and_hash_belong_to(tmp_path: Path) -> None:
    module = script()
    (tmp_path / "Zope_Interface-1.0-py3-none-any.whl").write_bytes(b"wheel")
    (tmp_path / "six-1.0.tar.gz").write_bytes(b"sdist")
    pins = [pin("zope-interface", b"other", b"wheel"), pin("six", b"sdist")]
    assert module.match_files(pins, tmp_path) == {
        "zope-interface": tmp_path / "Zope_Interface-1.0-py3-none-any.whl",
        "six": tmp_path / "six-1.0.tar.gz"}


def test_a_batch_is_not_trusted_unless_every_pin_has_exactly_its_own_file(tmp_path: Path) -> None:
    module = script()
    (tmp_path / "six-1.0.tar.gz").write_bytes(b"sdist")
    # A file whose bytes the lock does not list for its pin.
    assert module.match_files([pin("six", b"something else")], tmp_path) is None
    # A pin with no file.
    assert module.match_files([pin("six", b"sdist"), pin("other", b"o")], tmp_path) is None
    # A file of no pin, or a second file of one.
    (tmp_path / "stray-1.0-py3-none-any.whl").write_bytes(b"stray")
    assert module.match_files([pin("six", b"sdist")], tmp_path) is None
    (tmp_path / "stray-1.0-py3-none-any.whl").unlink()
    (tmp_path / "six-1.0-py3-none-any.whl").write_bytes(b"sdist")
    assert module.match_files([pin("six", b"sdist")], tmp_path) is None
    assert module.file_project("README.txt") is None
