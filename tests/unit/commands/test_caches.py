"""`wheelferry cache`'s core: what pruning chooses (by age, then least recently used until the
rest fits), sizes and ages as users write them, an entry a running build leased never removed
(a lease whose run died is dropped), and a lookup marking its entry used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wheelferry.building import wheelcache
from wheelferry.commands import caches
from wheelferry.commands.caches import Entry, choose
from wheelferry.core.errors import ConfigError

DAY = 86400.0


def entry(key: str, size: int, days_ago: float, now: float) -> Entry:
    return Entry("wheels", key, Path(key), size, now - days_ago * DAY)


def test_choose_by_age_then_least_recently_used_until_the_rest_fits() -> None:
    now = 1_000_000_000.0
    old = entry("old", 10, 40, now)
    middle = entry("middle", 30, 10, now)
    recent = entry("recent", 20, 1, now)
    newest = entry("newest", 50, 0, now)
    found = [newest, recent, old, middle]
    assert choose(found, now=now, older_than=30 * DAY, max_size=None) == [old]
    assert choose(found, now=now, older_than=None, max_size=70) == [old, middle]
    assert choose(found, now=now, older_than=None, max_size=60) == [old, middle, recent]
    assert choose(found, now=now, older_than=None, max_size=110) == []
    assert choose(found, now=now, older_than=30 * DAY, max_size=80) == [old, middle]
    assert choose(found, now=now, older_than=None, max_size=0) == [old, middle, recent, newest]


@pytest.mark.parametrize(("text", "size"), [("5GiB", 5 * 1024**3), ("500MB", 500 * 1000**2),
                                            ("1.5 KiB", 1536), ("0", 0), ("100m", 100_000_000)])
def test_sizes(text: str, size: int) -> None:
    assert caches.parse_size(text) == size


@pytest.mark.parametrize(("text", "seconds"), [("30d", 30 * DAY), ("12h", 43200), ("2w", 14 * DAY),
                                               ("90m", 5400), ("45s", 45)])
def test_ages(text: str, seconds: float) -> None:
    assert caches.parse_age(text) == seconds


@pytest.mark.parametrize("text", ["5 parsecs", "lots", "-1d", ""])
def test_bad_sizes_and_ages_are_named(text: str) -> None:
    with pytest.raises(ConfigError, match=repr(text)):
        caches.parse_size(text)
    with pytest.raises(ConfigError, match=repr(text)):
        caches.parse_age(text)


def fill(cache: Path, key: str, size: int, days_ago: float) -> Path:
    folder = cache / key
    folder.mkdir(parents=True)
    (folder / "x-1.0-py3-none-any.whl").write_bytes(b"w" * size)
    (folder / wheelcache.RECORD).write_text(json.dumps({"key": key}))
    used = time.time() - days_ago * DAY
    os.utime(folder / wheelcache.RECORD, (used, used))
    return folder


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(wheelcache.ENV, str(tmp_path / "wheels"))
    probes = tmp_path / "xdg" / "wheelferry" / "probes"
    probes.mkdir(parents=True)
    (probes / "a.json").write_text("{}")
    return tmp_path / "wheels"


def test_info_lists_each_cache_with_its_place_size_and_entries(user_cache: Path) -> None:
    fill(user_cache, "k1", 100, 1)
    fill(user_cache, "k2", 50, 2)
    found = {c.name: (c.folder, c.entries()) for c in caches.caches()}
    assert set(found) == {"wheels", "probes", "upstream"}
    folder, wheels = found["wheels"]
    assert folder == user_cache
    assert sorted(e.key for e in wheels) == ["k1", "k2"]
    assert sum(e.size for e in wheels) == 150 + 2 * len(json.dumps({"key": "k1"}))
    assert [e.key for e in found["probes"][1]] == ["a"]
    assert found["upstream"][1] == []


def test_an_entry_a_running_build_leased_is_kept(user_cache: Path) -> None:
    fill(user_cache, "leased", 100, 40)
    fill(user_cache, "free", 100, 40)
    # The build's lease, held by another process, as a real build holds it.
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time; from pathlib import Path\n"
            "from wheelferry.building import wheelcache\n"
            "lease = wheelcache.Lease(Path(sys.argv[1])).__enter__()\n"
            "lease.keys.append('leased')\n"
            "(wheelcache.leases(Path(sys.argv[1])) / (lease._name + '.keys'))"
            ".write_text('leased\\n')\n"
            "print('held', flush=True); time.sleep(60)"), str(user_cache)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        pruned = caches.prune(older_than=30 * DAY, max_size=None, names=("wheels",))
        assert [e.key for e in pruned.removed] == ["free"]
        assert [e.key for e in pruned.kept_in_use] == ["leased"]
        assert (user_cache / "leased" / wheelcache.RECORD).is_file()
        assert not (user_cache / "free").exists()
    finally:
        holder.kill()
        holder.wait()
    # Its run died: the lease is dropped, and the entry goes like any other.
    pruned = caches.prune(older_than=None, max_size=None, names=("wheels",))
    assert [e.key for e in pruned.removed] == ["leased"]
    assert [p.name for p in wheelcache.leases(user_cache).iterdir()] == ["lock"]
    assert sorted(p.name for p in user_cache.iterdir()) == []  # entries only, none left


def test_clean_empties_every_cache(user_cache: Path) -> None:
    fill(user_cache, "k1", 10, 0)
    pruned = caches.prune(older_than=None, max_size=None)
    assert sorted(e.key for e in pruned.removed) == ["a", "k1"]
    assert pruned.remaining == 0
    assert all(c.entries() == [] for c in caches.caches())
