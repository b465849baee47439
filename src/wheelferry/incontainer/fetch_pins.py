"""Runs in the toolchain image, for build_wheels.py: fetch many pins in a few pip processes.

One `pip download` per pin costs about half a second of pip's start-up and index work even for a
10 KB wheel; a scientific set of 30 wheels spent most of its build there. The pins are fetched
instead in a few batches, one per parallel job, each a single `pip download --require-hashes`
(every file checked against the lock by pip). Which pin each file belongs to comes from its name
(a wheel's or sdist's file name states its project and version) and its sha256, which must be
one of that pin's hashes in the lock. A batch that fails (an sdist whose metadata needs its own
build backend, an index that drops the connection) hands its pins back to be fetched one by one,
as before, so a failure is still told per package.

Stdlib only, besides `packaging` (in the toolchain's venv; pip vendors it otherwise).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    from packaging import utils
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import utils  # type: ignore[no-redef]

if TYPE_CHECKING:
    from wheelferry.everywhere import checksums
else:
    try:  # in the container, everywhere/'s modules sit beside the scripts
        import checksums
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.everywhere import checksums

PIP = [sys.executable, "-m", "pip"]
HASH = re.compile(r"--hash=sha256:([0-9a-fA-F]{64})")


def batches(pins: Sequence[Mapping[str, Any]], jobs: int) -> list[list[Mapping[str, Any]]]:
    """The pins dealt round-robin into at most `jobs` batches (none empty)."""
    count = max(1, min(jobs, len(pins)))
    dealt: list[list[Mapping[str, Any]]] = [[] for _ in range(count)]
    for number, pin in enumerate(pins):
        dealt[number % count].append(pin)
    return [batch for batch in dealt if batch]


def file_project(filename: str) -> str | None:
    """The canonical project name a wheel's or sdist's file name states; None for another file."""
    try:
        if filename.endswith(".whl"):
            return str(utils.parse_wheel_filename(filename)[0])
        return str(utils.parse_sdist_filename(filename)[0])
    except (utils.InvalidWheelFilename, utils.InvalidSdistFilename, ValueError):
        return None


def match_files(pins: Sequence[Mapping[str, Any]], folder: Path) -> dict[str, Path] | None:
    """Each pin's downloaded file in `folder`, by the project its name states and a sha256 the
    pin lists; None unless every pin has exactly one (then the batch is not trusted)."""
    wanted = {utils.canonicalize_name(str(pin["name"])): pin for pin in pins}
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        project = file_project(path.name)
        pin = wanted.get(utils.canonicalize_name(project)) if project else None
        if pin is None or project in found:
            return None
        if checksums.sha256_file(path) not in {h.lower() for h in HASH.findall(str(pin["line"]))}:
            return None
        found[str(project)] = path
    if len(found) != len(wanted):
        return None
    return {str(pin["name"]): found[utils.canonicalize_name(str(pin["name"]))] for pin in pins}


def fetch_batch(number: int, pins: Sequence[Mapping[str, Any]], scratch: Path,
                env: Mapping[str, str]) -> dict[str, Path]:
    """One pip process for `pins`, into scratch/batch-N; each pin's file, or {} on failure (its
    log stays in scratch: each pin is then fetched alone, with a log of its own)."""
    folder = scratch / f"batch-{number}"
    folder.mkdir(parents=True, exist_ok=True)
    requirements = scratch / f"batch-{number}.txt"
    requirements.write_text("".join(f"{pin['line']}\n" for pin in pins))
    # The toolchain's own setuptools prepares sdist metadata (no isolated environment to set up;
    # an sdist that needs another backend fails the batch, and is fetched alone with isolation).
    cmd = [*PIP, "download", "--no-deps", "--require-hashes", "--no-build-isolation",
           "-r", str(requirements), "-d", str(folder)]
    log = scratch / f"batch-{number}.log"
    with log.open("w") as handle:
        handle.write(f"$ {' '.join(cmd)}\n")
        handle.flush()
        code = subprocess.call(cmd, stdout=handle, stderr=subprocess.STDOUT, env=dict(env),
                               cwd=scratch)
    matched = match_files(pins, folder) if code == 0 else None
    return matched or {}


def prefetch(pins: Sequence[Mapping[str, Any]], jobs: int, scratch: Path,
             env: Mapping[str, str]) -> dict[str, Path]:
    """Fetch `pins` (those with no override: an override's build environment changes how its
    sdist is prepared) in at most `jobs` parallel batches; pin name -> downloaded file, for the
    pins whose batch succeeded."""
    if not pins:
        return {}
    fetched: dict[str, Path] = {}
    dealt = batches(pins, jobs)
    with ThreadPoolExecutor(max_workers=len(dealt)) as pool:
        for found in pool.map(lambda item: fetch_batch(item[0], item[1], scratch, env),
                              enumerate(dealt)):
            fetched.update(found)
    return fetched
