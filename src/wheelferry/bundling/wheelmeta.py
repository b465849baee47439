"""What a wheel says about itself, read from its `.dist-info/METADATA` (core metadata, parsed by
packaging's `parse_email`): summary, homepage, licence, what it requires; and the shared
libraries auditwheel grafted into it (`NAME.libs/`). For the review; nothing here runs it."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

LICENSE_CLASSIFIER = "License :: "
# How a licence was found, in the order it is looked for.
FROM_EXPRESSION = "License-Expression"
FROM_CLASSIFIERS = "classifiers"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Licence:
    """A distribution's licence: an SPDX expression (License-Expression), else the names its
    trove classifiers give, else unknown (`text` then keeps what its free-text License field
    says, for the reviewer to judge)."""

    name: str
    source: str  # FROM_EXPRESSION, FROM_CLASSIFIERS or UNKNOWN
    text: str = ""

    @property
    def known(self) -> bool:
        return self.source != UNKNOWN


@dataclass(frozen=True)
class WheelMeta:
    name: NormalizedName
    version: str
    summary: str
    homepage: str
    licence: Licence
    requires: tuple[Requirement, ...]
    grafted: tuple[str, ...]  # shared libraries carried in NAME.libs/


def read(wheel: Path) -> WheelMeta:
    """The metadata of one wheel file (ValueError when it has none that parses)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        found = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if len(found) != 1:
            raise ValueError(f"{wheel.name} has {len(found)} .dist-info/METADATA files, not one")
        text = archive.read(found[0]).decode("utf-8", "replace")
        grafted = sorted({n.rsplit("/", 1)[1] for n in names
                          if n.split("/", 1)[0].endswith(".libs") and n.count("/") == 1
                          and ".so" in n.rsplit("/", 1)[1]})
    return from_text(text, grafted=tuple(grafted))


def from_text(text: str, *, grafted: tuple[str, ...] = ()) -> WheelMeta:
    raw, _ = parse_email(text)
    if "name" not in raw or "version" not in raw:
        raise ValueError("its METADATA has no Name or Version")
    requires = []
    for line in raw.get("requires_dist", []):
        try:
            requires.append(Requirement(line))
        except InvalidRequirement:
            continue
    return WheelMeta(
        name=canonicalize_name(raw["name"]), version=raw["version"],
        summary=(raw.get("summary") or "").strip(), homepage=_homepage(raw),
        licence=licence_of(raw), requires=tuple(requires), grafted=grafted)


def licence_of(raw: Mapping[str, object]) -> Licence:
    """License-Expression, else the licence classifiers, else unknown."""
    expression = raw.get("license_expression")
    if isinstance(expression, str) and expression.strip():
        return Licence(expression.strip(), FROM_EXPRESSION)
    classifiers = raw.get("classifiers")
    names: list[str] = []
    if isinstance(classifiers, list):
        for classifier in classifiers:
            if isinstance(classifier, str) and classifier.startswith(LICENSE_CLASSIFIER):
                name = classifier.rsplit(" :: ", 1)[1].strip()
                if name != "OSI Approved":
                    names.append(name)
    names = list(dict.fromkeys(names))
    if names:
        return Licence(" OR ".join(names) if len(names) > 1 else names[0], FROM_CLASSIFIERS)
    text = raw.get("license")
    hint = text.strip().splitlines()[0][:120] if isinstance(text, str) and text.strip() else ""
    return Licence(UNKNOWN, UNKNOWN, hint)


def _homepage(raw: Mapping[str, object]) -> str:
    home = raw.get("home_page")
    if isinstance(home, str) and home.strip():
        return home.strip()
    urls = raw.get("project_urls")
    if isinstance(urls, dict):
        for label, url in urls.items():
            if canonicalize_name(str(label)).replace("-", "") in ("homepage", "home", "source",
                                                                   "repository"):
                return str(url).strip()
        for url in urls.values():
            return str(url).strip()
    return ""
