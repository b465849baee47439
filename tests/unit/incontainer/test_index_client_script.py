"""The in-container index client (incontainer/index_client.py): the indexes pip uses, the files
of every index that answers in JSON (PEP 691), and downloads checked against the listed sha256.
No engine, no network."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from tests.support import incontainer_script

client = incontainer_script("index_client")

TOOL = [
    {"filename": "tool-1.0-py3-none-any.whl", "url": "../../packages/tool-1.0-py3-none-any.whl",
     "hashes": {"sha256": "1" * 64}},
    {"filename": "tool-1.0.tar.gz", "url": "../../packages/tool-1.0.tar.gz",
     "hashes": {"sha256": "2" * 64}},
    {"filename": "tool-2.0-py3-none-any.whl", "url": "../../packages/tool-2.0-py3-none-any.whl",
     "hashes": {"sha256": "3" * 64}},
]


def test_index_urls_are_pips() -> None:
    assert client.index_urls({}) == ["https://pypi.org/simple/"]
    assert client.index_urls({"PIP_INDEX_URL": "https://a/simple/",
                          "PIP_EXTRA_INDEX_URL": "https://b/simple/ https://c/simple/"}) == [
        "https://a/simple/", "https://b/simple/", "https://c/simple/"]
    assert client.index_urls({"PIP_NO_INDEX": "1", "PIP_INDEX_URL": "https://a/simple/"}) == []


def test_files_from_every_index_that_answers_in_json() -> None:
    pages = {"https://a/simple/": {"files": [TOOL[0], "junk"]}, "https://b/simple/": None,
             "https://c/simple/": {"files": [TOOL[2]]}}
    env = {"PIP_INDEX_URL": "https://a/simple/",
           "PIP_EXTRA_INDEX_URL": "https://b/simple/ https://c/simple/"}
    asked: list[tuple[str, str]] = []

    def fetch(index: str, project: str, env: Mapping[str, str]) -> dict[str, Any] | None:
        asked.append((index, project))
        return pages[index]

    # Relative file URLs (PEP 691) come back absolute, resolved against their own index's page.
    assert client.project_files("tool", env, fetch) == [
        {**TOOL[0], "url": "https://a/packages/tool-1.0-py3-none-any.whl"},
        {**TOOL[2], "url": "https://c/packages/tool-2.0-py3-none-any.whl"}]
    assert [index for index, _ in asked] == list(pages)
    assert client.project_files("tool", {"PIP_INDEX_URL": "https://b/simple/"}, fetch) is None


def test_a_listed_file_is_downloaded_only_with_the_hash_the_index_lists(tmp_path: Path) -> None:
    source = tmp_path / "index" / "old-1.0.tar.gz"
    source.parent.mkdir()
    source.write_bytes(b"an old sdist")
    digest = hashlib.sha256(b"an old sdist").hexdigest()
    file = {"filename": source.name, "url": source.as_uri(), "hashes": {"sha256": digest}}
    fetched = client.download_file(file, tmp_path / "got", {})
    assert fetched == tmp_path / "got" / "old-1.0.tar.gz"
    assert fetched.read_bytes() == b"an old sdist"
    with pytest.raises(ValueError, match="does not match the sha256"):
        client.download_file({**file, "hashes": {"sha256": "0" * 64}}, tmp_path / "bad", {})
    assert not (tmp_path / "bad" / "old-1.0.tar.gz").exists()
