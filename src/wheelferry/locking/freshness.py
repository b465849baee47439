"""Whether a lock is fresh: the fingerprint of everything it was made from (its inputs and what
they reference, the target, the index, the overrides, what the platform provides), kept in the
lock's first line. Pure functions over a Project (read once per command) and the inputs' files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from wheelferry.locking.project import Project
from wheelferry.project import layout
from wheelferry.project.layout import LockEntry
from wheelferry.project.options import Options
from wheelferry.project.requirements import references
from wheelferry.target.provided import Provided

HEADER_PREFIX = "# wheelferry-lock: "


def _digest(key: object) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _file_sums(options: Options, paths: Sequence[Path],
               contents: Mapping[Path, bytes]) -> list[list[str]]:
    """[relative path, sha256] of each file: its bytes in `contents` (a new version not yet
    written), else on disk (empty when absent)."""
    sums = []
    for path in paths:
        data = contents.get(path)
        if data is None:
            data = path.read_bytes() if path.is_file() else b""
        sums.append([layout.relative(options, path), hashlib.sha256(data).hexdigest()])
    return sums


def fingerprint(project: Project, entry: LockEntry, contents: Mapping[Path, bytes]) -> str:
    """What a lock was made from: change any part and the lock is stale."""
    options = project.options
    seen: list[Path] = []

    def walk(path: Path) -> None:
        if path in seen:
            return
        seen.append(path)
        if path.suffix == ".in" and path.is_file():
            for ref in references(path):
                walk(ref)

    walk(entry.source)
    return _digest({
        "files": _file_sums(options, seen, contents),
        "python": options.target.python,
        "image": options.target.image,
        "arch": options.target.arch,
        "index": [options.index.index_url, list(options.index.extra_index_urls)],
        "overrides": [[o.name, [str(r) for r in o.build_requires], o.no_build_isolation,
                       # Only when set: locks made before the setting existed stay fresh.
                       *([list(o.system_packages)] if o.system_packages else [])]
                      for o in options.build.overrides],
        **({"system-packages": list(options.build.system_packages)} if options.build.system_packages
           else {}),
        **_provided_key(project),
    })


def _provided_key(project: Project) -> dict[str, object]:
    """The provided set's part of a fingerprint; absent when nothing is provided, so that
    locks made before the setting existed stay fresh."""
    if project.provided is None or not project.provided.packages:
        return {}
    return {"provided": project.provided.digest(),
            "replace": list(project.options.platform.replace_provided)}


def build_fingerprint(project: Project, contents: Mapping[Path, bytes],
                      discovered: Mapping[str, Sequence[str]] | None = None) -> str:
    """What the build lock was made from: the build requirements, the target, the index, and the
    locks that constrain it (as written)."""
    options = project.options
    locks = [entry.lock for entry in project.entries]
    return _digest({"requires": build_requires_for_locking(project, discovered),
                    "locks": _file_sums(options, locks, contents),
                    "python": options.target.python, "image": options.target.image,
                    "arch": options.target.arch,
                    "index": [options.index.index_url, list(options.index.extra_index_urls)],
                    **_provided_key(project)})


def header_line(project: Project, fp: str) -> str:
    target = project.options.target
    line = (f"{HEADER_PREFIX}python={target.python} image={target.image} "
            f"arch={target.arch} fingerprint={fp}")
    short = provided_short(project.provided)
    return f"{line} provided={short}\n" if short else f"{line}\n"


def provided_short(provided: Provided | None) -> str:
    """The provided set's digest as the lock header shows it ('' when nothing is provided)."""
    return provided.digest()[:16] if provided is not None and provided.packages else ""


def read_header(lock: Path) -> dict[str, str] | None:
    try:
        with lock.open(encoding="utf-8") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return None
    if not first.startswith(HEADER_PREFIX):
        return None
    return dict(item.split("=", 1) for item in first[len(HEADER_PREFIX):].split() if "=" in item)


def build_requires_for_locking(
        project: Project, discovered: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """What the build lock holds: setuptools and wheel (no-isolation builds need them) and every
    configured override's build requirements; `discovered` replaces what the build lock
    records."""
    stating = [o for o in project.options.build.overrides if o.states_build_environment]
    requires = [str(r) for o in stating for r in o.build_requires]
    found = project.found() if discovered is None else discovered
    requires += [need for needs in found.values() for need in needs]
    if not stating and not found:
        return []
    return sorted({"setuptools", "wheel", *requires})
