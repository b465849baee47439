"""Runs in the toolchain image, for build_wheels.py: one pin's file downloaded on its own,
hash-checked against the lock: with pip (which prepares an sdist's metadata even to download
it), else, when an old sdist fails that with today's build tools, the sdist itself from the
index's JSON listing (index_client.py).

Stdlib only, besides `packaging` (as index_client.py).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wheelferry.incontainer import build_steps, index_client
else:
    try:  # in the container, the scripts sit side by side
        import build_steps
        import index_client
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import build_steps, index_client

SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")
Failed, run = build_steps.Failed, build_steps.run


def fetch(cmd: list[str], download: Path, log: Path, env: dict[str, str]) -> None:
    """Download one pin. pip prepares an sdist's metadata even to download it; try that first
    with the toolchain's own setuptools (no isolated environment to set up, so an sdist is not
    set up twice), and fall back to isolation for sdists that need another build backend."""
    quick_log = log.with_suffix(".quick.log")
    try:
        run([*cmd, "--no-build-isolation"], quick_log, env, "downloading it")
        with log.open("a") as handle:
            handle.write(quick_log.read_text())
        return
    except Failed:
        shutil.rmtree(download, ignore_errors=True)
        download.mkdir(parents=True)
    finally:
        quick_log.unlink(missing_ok=True)
    run(cmd, log, env, "downloading it")


def download_listed_sdist(name: str, line: str, download: Path, log: Path,
                          env: Mapping[str, str]) -> bool:
    """After pip failed to download a pin: pip prepares an sdist's metadata even to download it,
    which an old sdist fails with today's build tools. Download the sdist itself from the
    index's JSON listing instead, checked against the lock's hashes; whether that was done."""
    hashes = set(re.findall(r"--hash=sha256:([0-9a-fA-F]{64})", line))
    try:
        files = index_client.project_files(name, env) or []
        listed = [file for file in files if str(file.get("filename", "")).endswith(SDIST_SUFFIXES)
                  and index_client.listed_sha256(file) in hashes]
        if not listed:
            return False
        shutil.rmtree(download, ignore_errors=True)
        fetched = index_client.download_file(listed[0], download, env)
    except Exception as exc:  # the original failure stands
        with log.open("a") as handle:
            handle.write(f"# wheelferry: could not download the sdist itself either "
                         f"({type(exc).__name__}: {exc})\n")
        return False
    with log.open("a") as handle:
        handle.write(f"# wheelferry: pip could not prepare its metadata; downloaded {fetched.name} "
                     f"from the index's listing instead (sha256 as the lock has it)\n")
    return True
