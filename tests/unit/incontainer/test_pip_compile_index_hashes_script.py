"""incontainer/pip_compile_index_hashes.py: pip-compile takes a file's sha256 from the index's
listing, and downloads and hashes only a file listed without one."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType

from pip._internal.models.link import Link
from tests.support import incontainer_script


def script() -> ModuleType:
    return incontainer_script("pip_compile_index_hashes")


def test_a_listed_sha256_is_taken_without_downloading() -> None:
    digest = "ab" * 32
    # An address nothing answers at: a download would fail.
    link = Link(f"https://index.invalid/packages/x-1.0.tar.gz#sha256={digest.upper()}")
    assert script()._listed_or_downloaded_hash(None, link) == f"sha256:{digest}"


def test_a_file_listed_without_sha256_is_downloaded_and_hashed(tmp_path: Path) -> None:
    from piptools.repositories.pypi import PyPIRepository

    wheel = tmp_path / "x-1.0-py3-none-any.whl"
    wheel.write_bytes(b"the file itself")
    repository = PyPIRepository([], cache_dir=str(tmp_path / "cache"))
    digest = script()._listed_or_downloaded_hash(repository, Link(wheel.as_uri()))
    assert digest == f"sha256:{hashlib.sha256(b'the file itself').hexdigest()}"
