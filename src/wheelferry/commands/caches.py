"""`wheelferry cache`: the user caches wheelferry keeps, shown, pruned and cleaned.

Three caches grow with use: the wheel cache (wheels built from sdists, shared by projects), the
probe cache (what each target image's python3 says about itself) and the upstream-check cache
(how a published release's submodules import). Each entry's last use is its record's
modification time, which every read that uses it renews. Pruning removes the least recently
used first, by age and/or until all of them fit a total size; an entry a running build holds
(the wheel cache's leases) is never removed."""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from wheelferry.building import wheelcache
from wheelferry.core.errors import ConfigError
from wheelferry.engine.specs import cache_root

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3,
          "gb": 1000**3, "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2,
          "gib": 1024**3, "tib": 1024**4}
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class Entry:
    cache: str
    key: str
    path: Path
    size: int
    last_used: float


@dataclass(frozen=True)
class Cache:
    """One cache: its name, what it holds, its folder (None: turned off)."""

    name: str
    holds: str
    folder: Path | None

    def entries(self) -> list[Entry]:
        if self.folder is None or not self.folder.is_dir():
            return []
        if self.name == "wheels":
            return [entry for entry in map(self._wheel_entry, self._listing()) if entry]
        found = []
        for path in self._listing():
            if path.suffix == ".json" and path.is_file():
                with contextlib.suppress(OSError):
                    stat = path.stat()
                    found.append(Entry(self.name, path.stem, path, stat.st_size, stat.st_mtime))
        return found

    def _listing(self) -> list[Path]:
        assert self.folder is not None
        try:
            return sorted(p for p in self.folder.iterdir() if not p.name.startswith("."))
        except OSError:
            return []

    def _wheel_entry(self, folder: Path) -> Entry | None:
        if not folder.is_dir():
            return None
        try:
            size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
            record = folder / wheelcache.RECORD
            used = record.stat().st_mtime if record.is_file() else folder.stat().st_mtime
        except OSError:
            return None
        return Entry(self.name, folder.name, folder, size, used)


def caches() -> list[Cache]:
    root = cache_root()
    return [Cache("wheels", "wheels built from sdists, shared by your projects",
                  wheelcache.root()),
            Cache("probes", "what each target image's python3 says (version, tags)",
                  root / "probes"),
            Cache("upstream", "the upstream check's verdicts on published releases",
                  root / "upstream")]


@dataclass(frozen=True)
class Pruned:
    removed: tuple[Entry, ...]
    kept_in_use: tuple[Entry, ...]
    remaining: int  # bytes left in all the caches

    @property
    def freed(self) -> int:
        return sum(entry.size for entry in self.removed)


def choose(entries: list[Entry], *, now: float, older_than: float | None,
           max_size: int | None) -> list[Entry]:
    """What pruning removes: every entry unused for `older_than` seconds, then the least
    recently used until the rest fits `max_size` bytes. Pure: the caller skips what is in use."""
    order = sorted(entries, key=lambda e: e.last_used)
    chosen = [e for e in order if older_than is not None and now - e.last_used > older_than]
    if max_size is not None:
        left = sum(e.size for e in order) - sum(e.size for e in chosen)
        for entry in order:
            if left <= max_size:
                break
            if entry not in chosen:
                chosen.append(entry)
                left -= entry.size
    return chosen


@contextlib.contextmanager
def _wheel_cache_locked() -> Iterator[set[str]]:
    """The wheel cache's lock held (no build finds an entry meanwhile) and the keys that running
    builds hold."""
    folder = wheelcache.root()
    if folder is None or not folder.is_dir():
        yield set()
        return
    try:
        lock = wheelcache.cache_lock(folder)
        lock.acquire()
    except OSError:  # a cache this user cannot write: nothing can be removed from it anyway
        yield set()
        return
    try:
        yield wheelcache.leased(folder)
    finally:
        lock.release()


def prune(*, older_than: float | None, max_size: int | None, names: tuple[str, ...] = (),
          now: float | None = None,
          on_removed: Callable[[Entry], None] | None = None) -> Pruned:
    """Remove what `choose` says, from the caches named (all by default), never an entry a
    running build holds. `older_than` and `max_size` both None: everything (clean)."""
    selected = [c for c in caches() if not names or c.name in names]
    with _wheel_cache_locked() as held:
        entries = [e for cache in selected for e in cache.entries()]
        everything = older_than is None and max_size is None
        chosen = entries if everything else choose(
            entries, now=time.time() if now is None else now, older_than=older_than,
            max_size=max_size)
        removed, kept = [], []
        for entry in chosen:
            if entry.cache == "wheels" and entry.key in held:
                kept.append(entry)
                continue
            _remove(entry)
            removed.append(entry)
            if on_removed is not None:
                on_removed(entry)
        for cache in selected:
            if cache.name == "wheels" and cache.folder is not None:
                wheelcache.sweep(cache.folder)
    remaining = sum(e.size for cache in caches() for e in cache.entries())
    return Pruned(tuple(removed), tuple(kept), remaining)


def _remove(entry: Entry) -> None:
    if entry.path.is_dir():
        # The record first: what remains is never taken for an entry.
        with contextlib.suppress(OSError):
            (entry.path / wheelcache.RECORD).unlink()
        shutil.rmtree(entry.path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            entry.path.unlink()


def parse_size(text: str) -> int:
    """'5GiB', '500MB', '100M', '0': bytes (KiB... binary, kB/MB... decimal)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match[2].lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ConfigError(f"--max-size {text!r} is not a size.",
                          hint="Give a number and a unit, e.g. 5GiB, 500MiB or 2GB.")
    return int(float(match[1]) * _UNITS[unit])


def parse_age(text: str) -> float:
    """'30d', '12h', '2w', '90m', '45s': seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text.lower())
    if match is None:
        raise ConfigError(f"--older-than {text!r} is not an age.",
                          hint="Give a number and a unit: s, m, h, d or w, e.g. 30d.")
    return float(match[1]) * _SECONDS[match[2]]
