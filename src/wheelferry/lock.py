"""`lock`: compile each requirements X.in into X.txt with pip-compile, inside the target image,
so that environment markers are evaluated for the target interpreter and platform.

Planning is pure: a lock is fresh when its header records the fingerprint of its inputs (the .in,
the files it references, the target, the index settings and build overrides); execution runs one
container for all stale locks and swaps each new lock in only when every one of them succeeded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from wheelferry import containers
from wheelferry.config import Options
from wheelferry.diagnose import diagnose, log_tail
from wheelferry.engine import Engine
from wheelferry.errors import LockError
from wheelferry.report import Reporter
from wheelferry.target import Target

HEADER_PREFIX = "# wheelferry-lock: "
# The lock of the overrides' build requirements, constrained by the project's locks.
BUILD_LOCK_NAME = "wheelferry-build.txt"
_REFERENCE = re.compile(r"^(?:-r|-c|--requirement|--constraint)(?:\s+|=)?(?P<path>\S+)")
_REFUSED = re.compile(r"^(?:-e|--editable)\b|://|^[./~]|@\s*file:")
_ALLOWED_OPTIONS = ("--pre", "--only-binary", "--no-binary", "--prefer-binary")


@dataclass(frozen=True)
class LockEntry:
    source: Path
    lock: Path

    def relative(self, root: Path) -> tuple[str, str]:
        return str(self.source.relative_to(root)), str(self.lock.relative_to(root))


@dataclass(frozen=True)
class LockPlan:
    entries: tuple[LockEntry, ...]
    stale: tuple[LockEntry, ...]
    reasons: tuple[tuple[Path, str], ...]
    upgrade: bool = False
    upgrade_packages: tuple[str, ...] = ()
    # The lock of the overrides' build requirements, when there are overrides, and whether
    # (and why) it must be re-made.
    build_lock: Path | None = None
    build_stale: bool = False

    @property
    def up_to_date(self) -> bool:
        return not self.stale and not self.build_stale


def read_input(path: Path) -> str:
    """A requirements file's text; LockError naming it when it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LockError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}).",
                        hint="Save it as UTF-8 and run again.") from exc
    except OSError as exc:
        raise LockError(f"cannot read {path} ({exc.strerror}).") from exc


def references(path: Path) -> list[Path]:
    """Files an input references with -r/-c, resolved beside it."""
    found = []
    for line in _logical_lines(read_input(path)):
        match = _REFERENCE.match(line)
        if match:
            found.append((path.parent / match["path"]).resolve())
    return found


def _logical_lines(text: str) -> list[str]:
    joined = re.sub(r"\\\n", "", text)
    lines = []
    for raw in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if line:
            lines.append(line)
    return lines


def _numbered_logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined (as pip reads them), each with the number of
    its first physical line."""
    found: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            first = number
        if raw.endswith("\\") and not raw.lstrip().startswith("#"):
            pending.append(raw[:-1])
            continue
        found.append((first, "".join([*pending, raw])))
        pending = []
    if pending:
        found.append((first, "".join(pending)))
    return found


def check_input(path: Path, project_dir: Path, *, produced: frozenset[Path] = frozenset()) -> None:
    """Refuse, naming the line, what wheelferry cannot lock with hashes or what escapes the
    project: syntax errors, editable, VCS, URL and local-path requirements. A reference may name
    a lock in `produced`: one that an earlier input of the same run writes."""
    shown = path.relative_to(project_dir)
    for number, raw in _numbered_logical_lines(read_input(path)):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        match = _REFERENCE.match(line)
        if match:
            target = (path.parent / match["path"]).resolve()
            if project_dir not in target.parents:
                raise LockError(f"{shown} line {number} references {match['path']!r}, which is "
                                "outside the project folder.",
                                hint="Keep referenced requirement files inside the project.")
            if not target.is_file() and target not in produced:
                raise LockError(f"{shown} line {number} references {match['path']!r}, which does "
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


def fingerprint(options: Options, entry: LockEntry, contents: Mapping[Path, bytes]) -> str:
    """What a lock was made from: change any part and the lock is stale."""
    seen: list[Path] = []

    def walk(path: Path) -> None:
        if path in seen:
            return
        seen.append(path)
        if path.suffix == ".in" and path.is_file():
            for ref in references(path):
                walk(ref)

    walk(entry.source)
    files = []
    for path in seen:
        data = contents.get(path)
        if data is None:
            data = path.read_bytes() if path.is_file() else b""
        files.append([str(path.relative_to(options.project_dir)),
                      hashlib.sha256(data).hexdigest()])
    key = {
        "files": files,
        "python": options.python,
        "image": options.image,
        "index": [options.index_url, list(options.extra_index_urls)],
        "overrides": [[o.name, [str(r) for r in o.build_requires], o.no_build_isolation]
                      for o in options.overrides],
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def header_line(options: Options, fp: str) -> str:
    return f"{HEADER_PREFIX}python={options.python} image={options.image} fingerprint={fp}\n"


def read_header(lock: Path) -> dict[str, str] | None:
    try:
        with lock.open(encoding="utf-8") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return None
    if not first.startswith(HEADER_PREFIX):
        return None
    fields = dict(item.split("=", 1) for item in first[len(HEADER_PREFIX):].split() if "=" in item)
    return fields


def plan_locks(options: Options, *, upgrade: bool = False,
               upgrade_packages: Sequence[str] = ()) -> LockPlan:
    entries = tuple(LockEntry(source, options.lock_path(source))
                    for source in options.requirements)
    for position, entry in enumerate(entries):
        earlier = frozenset(e.lock for e in entries[:position])
        check_input(entry.source, options.project_dir, produced=earlier)
        # What it pulls in with -r/-c is checked the same way, at any depth.
        for ref in _transitive_refs(entry.source):
            if ref.suffix == ".in" and ref.is_file():
                check_input(ref, options.project_dir, produced=earlier)
    stale: list[LockEntry] = []
    reasons: list[tuple[Path, str]] = []
    stale_locks: set[Path] = set()
    for entry in entries:
        reason = _stale_reason(options, entry, stale_locks)
        if upgrade or upgrade_packages:
            reason = reason or ("--upgrade" if upgrade else "--upgrade-package")
        if reason:
            stale.append(entry)
            stale_locks.add(entry.lock)
            reasons.append((entry.lock, reason))
    build_lock = build_lock_path(options)
    build_reason = None
    if build_lock is not None:
        header = read_header(build_lock)
        if stale:
            build_reason = "a lock it is constrained by is being re-made"
        elif header is None:
            build_reason = "no build lock yet"
        elif header.get("fingerprint") != build_fingerprint(options, {}):
            build_reason = "the overrides or the locks changed"
        if build_reason:
            reasons.append((build_lock, build_reason))
    return LockPlan(entries=entries, stale=tuple(stale), reasons=tuple(reasons),
                    upgrade=upgrade, upgrade_packages=tuple(upgrade_packages),
                    build_lock=build_lock, build_stale=build_reason is not None)


def build_lock_path(options: Options) -> Path | None:
    """Where the overrides' build requirements are locked (beside the first input), if any."""
    if not options.overrides:
        return None
    return options.requirements[0].parent / BUILD_LOCK_NAME


def lock_files(options: Options) -> list[Path]:
    """Every lock the project has or will have: one per input, then the build lock (when there
    are overrides)."""
    locks = [options.lock_path(source) for source in options.requirements]
    build_lock = build_lock_path(options)
    return [*locks, build_lock] if build_lock is not None else locks


def build_fingerprint(options: Options, contents: Mapping[Path, bytes]) -> str:
    """What the build lock was made from: the build requirements, the target, the index, and the
    locks that constrain it (as written)."""
    locks = []
    for source in options.requirements:
        lock = options.lock_path(source)
        data = contents.get(lock)
        if data is None:
            data = lock.read_bytes() if lock.is_file() else b""
        locks.append([str(lock.relative_to(options.project_dir)),
                      hashlib.sha256(data).hexdigest()])
    key = {"requires": build_requires_for_locking(options), "locks": locks,
           "python": options.python, "image": options.image,
           "index": [options.index_url, list(options.extra_index_urls)]}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _stale_reason(options: Options, entry: LockEntry, stale_locks: set[Path]) -> str | None:
    header = read_header(entry.lock)
    if not entry.lock.is_file():
        return "no lock yet"
    if header is None:
        return "the lock was not made by wheelferry"
    if header.get("python") != options.python or header.get("image") != options.image:
        return (f"the lock was made for python {header.get('python')} in "
                f"{header.get('image')}")
    if any(ref in stale_locks for ref in _transitive_refs(entry.source)):
        return "a lock it references is being re-made"
    if header.get("fingerprint") != fingerprint(options, entry, {}):
        return f"{entry.source.name} or what it references changed"
    return None


def _transitive_refs(source: Path) -> list[Path]:
    found: list[Path] = []
    todo = [source]
    while todo:
        for ref in references(todo.pop()):
            if ref not in found:
                found.append(ref)
                if ref.suffix == ".in":
                    todo.append(ref)
    return found


def build_requires_for_locking(options: Options) -> list[str]:
    if not options.overrides:
        return []
    requires = ["setuptools", "wheel"]
    for override in options.overrides:
        requires += [str(r) for r in override.build_requires]
    return sorted(set(requires))


def execute(engine: Engine, options: Options, target: Target, plan: LockPlan,
            reporter: Reporter) -> None:
    """Compile the stale locks in one container; replace them only if all succeeded."""
    if plan.up_to_date:
        return
    root = options.project_dir
    staging = options.state_dir / f"lock-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    try:
        # The inputs as they are now, copied for the container and fingerprinted from the same
        # bytes: an edit saved during a long resolution cannot be stamped as locked.
        snapshot = input_snapshot(plan)
        for path, data in snapshot.items():
            copy = staging / "inputs" / path.relative_to(root)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(data)
        job = {
            "files": [dict(zip(("in", "out"), e.relative(root), strict=True)) for e in plan.stale],
            "upgrade": plan.upgrade,
            "upgrade_packages": list(plan.upgrade_packages),
            "build_requires": build_requires_for_locking(options),
        }
        if plan.build_stale and plan.build_lock is not None:
            job["build_lock"] = {
                "out": str(plan.build_lock.relative_to(root)),
                "constraints": [e.relative(root)[1] for e in plan.entries],
            }
        (staging / "plan.json").write_text(json.dumps(job, indent=2))
        spec = containers.online_spec(
            options, image=target.toolchain, purpose="lock",
            command=(containers.TOOLCHAIN_PYTHON, containers.script("compile_locks.py")),
            out=staging, project=False)
        result = engine.run(spec, on_line=reporter.output)
        outcome = _read_result(staging)
        if not result.ok or not outcome.get("ok"):
            failed = str(outcome.get("failed", "the requirements"))
            log = "\n".join(result.tail)
            found = diagnose(log)
            summary = found.summary if found else "pip-compile failed"
            raise LockError(
                f"locking {failed} for python {options.python} in {options.image} failed: "
                f"{summary}.",
                hint=(found.hint if found else "See pip-compile's output below.")
                + " The previous locks are unchanged.",
                details=log_tail(log),
            )
        new_contents: dict[Path, bytes] = dict(snapshot)
        for entry in plan.stale:
            produced = staging / "locks" / entry.lock.relative_to(root)
            new_contents[entry.lock] = produced.read_bytes()
        finished: dict[Path, bytes] = {}
        for entry in plan.stale:
            # In order, so that a later lock's fingerprint covers an earlier lock exactly as it
            # is written (header included), as the next run will read it.
            fp = fingerprint(options, entry, new_contents)
            finished[entry.lock] = header_line(options, fp).encode() + new_contents[entry.lock]
            new_contents[entry.lock] = finished[entry.lock]
        if plan.build_stale and plan.build_lock is not None:
            produced = staging / "locks" / plan.build_lock.relative_to(root)
            fp = build_fingerprint(options, new_contents)
            finished[plan.build_lock] = header_line(options, fp).encode() + produced.read_bytes()
        replace_all(finished)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def input_snapshot(plan: LockPlan) -> dict[Path, bytes]:
    """Every file a resolution reads: each input, what it references at any depth, and the
    current locks (pip-compile keeps their pins where they still fit)."""
    files: set[Path] = {plan.build_lock} if plan.build_lock is not None else set()
    for entry in plan.entries:
        files.add(entry.source)
        files.update(_transitive_refs(entry.source))
        files.add(entry.lock)
    return {path: path.read_bytes() for path in sorted(files) if path.is_file()}


def replace_all(files: Mapping[Path, bytes]) -> None:
    """Replace every lock, or (on any failure or interruption) none: the ones already replaced
    are put back as they were."""
    previous = read_files(files)
    done: list[Path] = []
    try:
        for path, data in files.items():
            replace_file(path, data)
            done.append(path)
    except BaseException:
        restore_files({path: previous[path] for path in done})
        raise


def read_files(paths: Iterable[Path]) -> dict[Path, bytes | None]:
    """The bytes of each file, None for one that does not exist: what restore_files puts back."""
    return {path: path.read_bytes() if path.is_file() else None for path in paths}


def restore_files(previous: Mapping[Path, bytes | None]) -> None:
    """Put files back as read_files found them (removing those that did not exist)."""
    for path, data in previous.items():
        if data is None:
            path.unlink(missing_ok=True)
        elif not path.is_file() or path.read_bytes() != data:
            replace_file(path, data)


def _read_result(staging: Path) -> dict[str, object]:
    try:
        data = json.loads((staging / "result.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def replace_file(path: Path, data: bytes) -> None:
    """Write beside and rename over: a reader sees the old file or the new one, never half."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temporary.write_bytes(data)
        if path.exists():
            shutil.copymode(path, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
