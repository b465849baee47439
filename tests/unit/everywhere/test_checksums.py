"""checksums: a file's sha256, and the lines of a SHA256SUMS file as the host, the build
container and the platform all read them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from wheelferry.everywhere.checksums import sha256_file, sums_entries


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_sha256_file_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "wheel.whl"
    data = bytes(range(256)) * 5000  # more than one read block
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_sums_entries_read_text_and_binary_mode_lines_and_pass_over_blank_ones() -> None:
    text = (f"{sha('a')}  a-1.0-py3-none-any.whl\n"
            "\n"
            f"{sha('b')} *wheelferry-manifest.json\r\n"
            "   \n"
            "not-a-digest\n")
    assert list(sums_entries(text)) == [
        (sha("a"), "a-1.0-py3-none-any.whl", f"{sha('a')}  a-1.0-py3-none-any.whl"),
        (sha("b"), "wheelferry-manifest.json", f"{sha('b')} *wheelferry-manifest.json"),
        ("not-a-digest", "", "not-a-digest"),
    ]
