"""Runs in the toolchain image: pip-compile, with each file's sha256 taken from the index.

`pip-compile --generate-hashes` hashes every file of every pinned version (numpy's 1.x release
has dozens of wheels), and downloads each to do so unless PyPI's legacy JSON API answers for the
index; that was most of a lock's time. The simple API (PEP 503 `#sha256=` fragments, PEP 691
`hashes`) already lists each file's sha256, and pip keeps it on the link: use it, and download
and hash only a file the index lists without one. The hashes are the same (the build step
downloads every file hash-checked against the lock anyway).

Arguments: pip-compile's own.
"""

from __future__ import annotations

import sys
from typing import Any

from piptools.repositories.pypi import PyPIRepository
from piptools.scripts.compile import cli

_download_and_hash = getattr(PyPIRepository, "_get_file_hash", None)


def _listed_or_downloaded_hash(self: PyPIRepository, link: Any) -> str:
    listed = (getattr(link, "_hashes", None) or {}).get("sha256")
    if isinstance(listed, str) and len(listed) == 64:
        return f"sha256:{listed.lower()}"
    assert _download_and_hash is not None
    digest: str = _download_and_hash(self, link)
    return digest


def main() -> int:
    # A pip-tools without this method is left as it is: slower, still correct.
    if callable(_download_and_hash):
        PyPIRepository._get_file_hash = _listed_or_downloaded_hash  # type: ignore[method-assign]
    sys.argv[0] = "pip-compile"
    cli()  # click exits itself
    return 0


if __name__ == "__main__":
    sys.exit(main())
