"""What the commands that hold no project print for a person: the caches' table, a prune's
summary, what init wrote. The counterpart of jsonout.py (the same facts for programs)."""

from __future__ import annotations

from wheelferry.commands.caches import Cache, Pruned
from wheelferry.commands.caches import Entry as CacheEntry
from wheelferry.commands.newproject import Started
from wheelferry.core.report import Reporter, format_size, print_facts


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def cache_info(found: list[tuple[Cache, list[CacheEntry]]]) -> None:
    rows = [(each.name, (f"{_entries(len(entries))}, "
                         f"{format_size(sum(e.size for e in entries))}"
                         f" in {each.folder} ({each.holds})") if each.folder is not None
             else f"turned off ({each.holds})") for each, entries in found]
    total = sum(e.size for _, entries in found for e in entries)
    print_facts(f"wheelferry caches ({format_size(total)} in all)", rows)


def cache_pruned(reporter: Reporter, pruned: Pruned) -> None:
    if pruned.kept_in_use:
        reporter.info(f"kept {len(pruned.kept_in_use)} wheel cache entr"
                      f"{'y' if len(pruned.kept_in_use) == 1 else 'ies'} that a running build "
                      "uses; prune again when it is done to remove them")
    reporter.info(f"removed {_entries(len(pruned.removed))}, "
                  f"{format_size(pruned.freed)} freed; {format_size(pruned.remaining)} left")


def started(reporter: Reporter, started: Started, project: str | None) -> None:
    verb = "wrote" if started.created_pyproject else "added [tool.wheelferry] to"
    reporter.info(f"{verb} {started.pyproject}")
    reporter.info(f"wrote {started.inputs} ({len(started.requirements)} requirement(s))")
    if started.network_host:
        reporter.info('the index is on this machine\'s loopback: network = "host" lets the '
                      "containers reach it")
    reporter.info("next: wheelferry build" + (f" -p {project}" if project else ""))
