"""Reading requirement files: the user's .in inputs and the locks made from them.

One reading of a file's lines for every purpose (pip's rules: a trailing backslash continues the
line, comments are dropped), the checks that refuse what cannot be locked with hashes, and the
pins of a lock. A file that cannot be read or parsed is a LockError naming it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelferry.core.errors import LockError

_COMMENT = re.compile(r"(^|\s+)#.*$")
_REFERENCE = re.compile(r"^(?:-r|-c|--requirement|--constraint)(?:\s+|=)?(?P<path>\S+)")
_REFUSED = re.compile(r"^(?:-e|--editable)\b|://|^[./~]|@\s*file:")
_ALLOWED_OPTIONS = ("--pre", "--only-binary", "--no-binary", "--prefer-binary")
_HASH = re.compile(r"--hash[=\s]+(sha256:[0-9a-f]{64})")
_RELOCK = "Re-make the lock with 'wheelferry lock --upgrade'."


def read_text(path: Path) -> str:
    """A requirements file's text; LockError naming it when it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LockError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}).",
                        hint="Save it as UTF-8 and run again.") from exc
    except OSError as exc:
        raise LockError(f"cannot read {path} ({exc.strerror}).") from exc


def logical_lines(text: str) -> list[tuple[int, str]]:
    """The non-empty lines as pip reads them, comments removed, each with the number of its
    first physical line: a line ending in a backslash continues on the next (a comment line
    never continues)."""
    joined: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            first = number
        is_comment = _COMMENT.match(raw) is not None
        if raw.endswith("\\") and not is_comment:
            pending.append(raw[:-1])
            continue
        joined.append((first, "".join([*pending, " " + raw if is_comment else raw])))
        pending = []
    if pending:
        joined.append((first, "".join(pending)))
    found = []
    for number, line in joined:
        line = _COMMENT.sub("", line).strip()
        if line:
            found.append((number, line))
    return found


def reference(line: str) -> str | None:
    """The path a `-r`/`-c` line names, else None."""
    match = _REFERENCE.match(line)
    return match["path"] if match else None


def references(path: Path) -> list[Path]:
    """Files an input references with -r/-c, resolved beside it."""
    found = []
    for _, line in logical_lines(read_text(path)):
        named = reference(line)
        if named is not None:
            found.append((path.parent / named).resolve())
    return found


def transitive_references(source: Path) -> list[Path]:
    """Every file an input pulls in with -r/-c, at any depth (each once)."""
    found: list[Path] = []
    todo = [source]
    while todo:
        for ref in references(todo.pop()):
            if ref not in found:
                found.append(ref)
                if ref.suffix == ".in":
                    todo.append(ref)
    return found


def check_input(path: Path, project_dir: Path, *, produced: frozenset[Path] = frozenset()) -> None:
    """Refuse, naming the line, what wheelferry cannot lock with hashes or what escapes the
    project: syntax errors, editable, VCS, URL and local-path requirements. A reference may name
    a lock in `produced`: one that an earlier input of the same run writes."""
    shown = path.relative_to(project_dir)
    for number, line in logical_lines(read_text(path)):
        named = reference(line)
        if named is not None:
            target = (path.parent / named).resolve()
            if project_dir not in target.parents:
                raise LockError(f"{shown} line {number} references {named!r}, which is "
                                "outside the project folder.",
                                hint="Keep referenced requirement files inside the project.")
            if not target.is_file() and target not in produced:
                raise LockError(f"{shown} line {number} references {named!r}, which does "
                                "not exist.", hint="Fix the path, or list the .in it is locked "
                                "from earlier in 'requirements'.")
            continue
        if _REFUSED.search(line):
            raise LockError(
                f"{shown} line {number}: {line!r} is an editable, VCS, URL or local-path "
                "requirement, which wheelferry refuses.",
                hint="Every artifact must come from an index so that it can be hash-checked "
                "and rebuilt for the target: publish the package to an index you configure "
                "(index-url / extra-index-urls) and require it by name.",
            )
        if line.startswith("-"):
            if line.split("=")[0].split()[0] in _ALLOWED_OPTIONS:
                continue
            raise LockError(f"{shown} line {number}: option {line!r} is not supported in "
                            "wheelferry inputs.",
                            hint="Put index settings in [tool.wheelferry] (index-url, "
                            "extra-index-urls) instead.")
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            raise LockError(f"{shown} line {number}: {line!r} is not a valid requirement "
                            f"({exc}).", hint="Fix the line (for example 'name==1.2.3').") from exc


@dataclass(frozen=True)
class Pin:
    """One package of a lock: exact version and the hashes of the files the lock allows."""

    name: NormalizedName
    version: Version
    hashes: frozenset[str]
    requirement: str
    lock: Path

    @property
    def line(self) -> str:
        """The pin as a hash-checking requirement line for pip."""
        hashes = " ".join(f"--hash={h}" for h in sorted(self.hashes))
        return f"{self.name}=={self.version} {hashes}"

    def allows(self, sha256: str) -> bool:
        return f"sha256:{sha256}" in self.hashes


def read_lock(path: Path) -> tuple[Pin, ...]:
    """Every pin of one lock. A line that is not `name==version` with hashes is an error: the
    lock was not made by `wheelferry lock`."""
    pins: list[Pin] = []
    for _, line in logical_lines(read_text(path)):
        if line.startswith("-"):
            continue
        hashes = frozenset(_HASH.findall(line))
        requirement_text = _HASH.sub("", line).strip()
        try:
            requirement = Requirement(requirement_text)
            specs = list(requirement.specifier)
            if len(specs) != 1 or specs[0].operator != "==":
                raise InvalidVersion(requirement_text)
            version = Version(specs[0].version)
        except (InvalidRequirement, InvalidVersion):
            raise LockError(
                f"{path} has {requirement_text!r}, which is not an exact pin (name==version).",
                hint=_RELOCK) from None
        if not hashes:
            raise LockError(f"{path}: the pin {requirement_text!r} has no hashes.", hint=_RELOCK)
        pins.append(Pin(canonicalize_name(requirement.name), version, hashes,
                        requirement_text, path))
    return tuple(pins)


def merge(pin_sets: Iterable[tuple[Pin, ...]]) -> tuple[Pin, ...]:
    """One pin per package across all locks; the same package pinned differently is an error."""
    merged: dict[NormalizedName, Pin] = {}
    for pins in pin_sets:
        for pin in pins:
            seen = merged.get(pin.name)
            if seen is None:
                merged[pin.name] = pin
            elif seen.version != pin.version:
                raise LockError(
                    f"{pin.name} is pinned to {seen.version} in {seen.lock.name} but to "
                    f"{pin.version} in {pin.lock.name}; one wheelhouse can hold only one.",
                    hint=f"Constrain the later input with the earlier lock ('-c {seen.lock.name}' "
                    f"in {pin.lock.with_suffix('.in').name}) and build again.",
                )
            else:
                merged[pin.name] = Pin(pin.name, pin.version, seen.hashes & pin.hashes or
                                       seen.hashes, seen.requirement, seen.lock)
    return tuple(merged[name] for name in sorted(merged))
