"""Runs in the toolchain image: a lock made again as of its old pins' day, where an input pins
exact releases (resolution_era decides what; this runs the resolver over the input and what it
references, with the index's listings read once each)."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

try:
    from packaging import tags
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import tags  # type: ignore[no-redef]

if TYPE_CHECKING:
    from wheelferry.incontainer import index_client, lock_steps, messages, resolution_era
else:
    try:  # in the container, the scripts sit side by side
        import index_client
        import lock_steps
        import messages
        import resolution_era
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import index_client, lock_steps, messages, resolution_era

WORK = lock_steps.WORK
LISTINGS_AT_ONCE = 8


def referenced(relative: str, option: str, seen: set[str] | None = None) -> list[str]:
    """The file and those it references with `option` (-r, -c), at any depth, relative to WORK."""
    seen = set() if seen is None else seen
    if relative in seen or not (WORK / relative).is_file():
        return []
    seen.add(relative)
    found = [relative]
    for line in (WORK / relative).read_text(errors="replace").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) == 2 and words[0] == option:
            path = os.path.normpath(os.path.join(os.path.dirname(relative), words[1]))
            found += referenced(path, option, seen)
    return found


def as_of_the_era(item: dict[str, str], plan: dict[str, object], constraints: list[str], *,
                  env: dict[str, str], resolver: str,
                  isolated: bool) -> messages.EraReport | None:
    """When the input pins old releases, lock what it does not name as of their day
    (resolution_era); what was done, for the host to say, or None."""
    texts = [(WORK / name).read_text(errors="replace") for name in referenced(item["in"], "-r")]
    fixed = [(WORK / name).read_text(errors="replace")
             for name in referenced(item["in"], "-c")[1:]]
    if plan.get("constraints"):
        fixed.append((WORK / str(plan["constraints"])).read_text(errors="replace"))
    python_version = ".".join(str(part) for part in sys.version_info[:3])
    pages: dict[str, list[dict[str, Any]] | None] = {}

    def listing(project: str) -> list[dict[str, Any]] | None:
        if project not in pages:
            pages[project] = index_client.project_files(project, env)
        return pages[project]

    try:
        pins = resolution_era.exact_pins(texts)
        if not pins:
            return None
        # Every listing the era may read, fetched at once: one request each, a round trip
        # apiece when read in turn (a set of 30 distributions waited 2.5 s for them).
        locked = resolution_era.exact_pins([(WORK / item["out"]).read_text(errors="replace")])
        with ThreadPoolExecutor(max_workers=LISTINGS_AT_ONCE) as pool:
            asked = {project: pool.submit(index_client.project_files, project, env)
                     for project in sorted(set(pins) | set(locked))}
            pages.update({project: answer.result() for project, answer in asked.items()})
        era = resolution_era.era_of(pins, listing, python_version=python_version)
        if era is None:
            return None
        return resolution_era.relock(
            WORK / item["out"], era, listing,
            keep=resolution_era.named(texts) | resolution_era.named(fixed),
            supported=frozenset(tags.sys_tags()), python_version=python_version,
            folder=WORK,
            compile_with=lambda extra: lock_steps.compile_one(item, plan, [*constraints, *extra],
                                                   isolated=isolated, env=env,
                                                   resolver=resolver))
    except Exception as exc:  # today's lock stands; say why it was not taken as of the era
        print(f"==> the pins' era could not be told ({type(exc).__name__}: {exc}); today's "
              "releases are kept", flush=True)
        return None


