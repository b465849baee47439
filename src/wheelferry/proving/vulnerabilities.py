"""Known vulnerabilities of pinned releases, from the index's JSON API: PyPI's
`/pypi/NAME/VERSION/json` lists each release's advisories (from OSV) under `vulnerabilities`.

Fail-closed: a release is either checked (its advisories, possibly none) or "not checked", with
the reason (unreachable, an error, an answer without a `vulnerabilities` list); never silently
"none found". Every lookup is dated and names its source.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

PYPI = "https://pypi.org"
TIMEOUT = 15.0
CHECKED, NOT_CHECKED = "checked", "not checked"


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    fixed_in: tuple[str, ...] = ()
    link: str = ""


@dataclass(frozen=True)
class ReleaseCheck:
    """One release looked up: status CHECKED with its advisories, or NOT_CHECKED with why."""

    name: str
    version: str
    status: str
    advisories: tuple[Advisory, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Checks:
    """Every release looked up at `checked_at` in `source`."""

    source: str
    checked_at: str
    releases: tuple[ReleaseCheck, ...] = field(default=())

    def of(self, name: str, version: str) -> ReleaseCheck | None:
        return next((r for r in self.releases if r.name == name and r.version == version), None)

    @property
    def not_checked(self) -> tuple[ReleaseCheck, ...]:
        return tuple(r for r in self.releases if r.status == NOT_CHECKED)

    @property
    def vulnerable(self) -> tuple[ReleaseCheck, ...]:
        return tuple(r for r in self.releases if r.advisories)

    @property
    def status(self) -> str:
        """"checked" when every release was, "not checked" when none was, else "partly
        checked"."""
        missing = len(self.not_checked)
        if not missing:
            return CHECKED
        return NOT_CHECKED if missing == len(self.releases) else "partly checked"


def api_base(index_url: str | None) -> str:
    """The JSON API's root for an index URL: PyPI's for none, else the URL without its
    trailing `/simple` (https://pypi.org/simple/ -> https://pypi.org)."""
    if not index_url:
        return PYPI
    base = index_url.rstrip("/")
    if base.endswith("/simple"):
        base = base[: -len("/simple")]
    return base


def release_url(base: str, name: str, version: str) -> str:
    quote = urllib.parse.quote
    return f"{base.rstrip('/')}/pypi/{quote(name, safe='')}/{quote(version, safe='')}/json"


def parse_release(document: Any, *, name: str, version: str) -> ReleaseCheck:
    """A release's JSON document into its check; NOT_CHECKED when it has no advisory list."""
    listed = document.get("vulnerabilities") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        return ReleaseCheck(name, version, NOT_CHECKED,
                            reason="the index's answer has no 'vulnerabilities' list")
    found = []
    for item in listed:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return ReleaseCheck(name, version, NOT_CHECKED,
                                reason="the index's 'vulnerabilities' list is malformed")
        if item.get("withdrawn"):
            continue
        found.append(Advisory(
            id=item["id"], aliases=tuple(str(a) for a in item.get("aliases") or ()),
            summary=str(item.get("summary") or item.get("details") or "").strip()[:300],
            fixed_in=tuple(str(v) for v in item.get("fixed_in") or ()),
            link=str(item.get("link") or "")))
    return ReleaseCheck(name, version, CHECKED, advisories=tuple(found))


Fetch = Callable[[str], Any]


def fetch_json(url: str) -> Any:
    """GET a JSON document (the proxy settings of the environment apply)."""
    if not url.startswith(("http://", "https://")):
        raise OSError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
        return json.loads(answer.read().decode("utf-8"))


def check_release(base: str, name: str, version: str, fetch: Fetch) -> ReleaseCheck:
    url = release_url(base, name, version)
    try:
        return parse_release(fetch(url), name=name, version=version)
    except urllib.error.HTTPError as exc:
        reason = f"{url} answered HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        reason = f"{url} could not be read ({getattr(exc, 'reason', None) or exc})"
    return ReleaseCheck(name, version, NOT_CHECKED, reason=reason)


def check(releases: Iterable[tuple[str, str]], *, base: str, fetch: Fetch = fetch_json,
          now: datetime | None = None) -> Checks:
    """Look every (name, version) up in the JSON API at `base`, a few at a time."""
    wanted = sorted(set(releases))
    when = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda release: check_release(base, release[0], release[1], fetch),
                              wanted))
    return Checks(source=base, checked_at=when, releases=tuple(found))
