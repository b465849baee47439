"""`lock`: compile each requirements X.in into X.txt with pip-compile, inside the target image,
so that environment markers are evaluated for the target interpreter and platform.

Planning is pure: a lock is fresh when its header records the fingerprint of its inputs (the .in,
the files it references, the target, the index settings and build overrides); execution runs one
container for all stale locks and swaps each new lock in only when every one of them succeeded.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from wheelferry.core.files import read_json_object, replace_all
from wheelferry.core.report import Reporter
from wheelferry.engine import specs as containers
from wheelferry.engine.client import Engine
from wheelferry.locking import notes
from wheelferry.locking.failure import lock_failure
from wheelferry.locking.freshness import (
    build_fingerprint,
    build_requires_for_locking,
    fingerprint,
    header_line,
    provided_short,
    read_header,
)
from wheelferry.locking.outcome import parse as parse_outcome
from wheelferry.locking.project import Project, read_project
from wheelferry.project import layout
from wheelferry.project.layout import LockEntry
from wheelferry.project.options import Options
from wheelferry.project.requirements import check_input, read_lock, transitive_references
from wheelferry.target.image import Target

# The provided packages as a constraints file, beside the inputs in the lock container.
PROVIDED_CONSTRAINTS = ".wheelferry-provided.txt"


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
    # What building found that sdists import undeclared, besides what the build lock records:
    # the build lock is re-made with it.
    found: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Requirements added to an input for this resolution (its lock -> lines): what wheels built
    # from its sdists require beyond their sdists' metadata.
    added: tuple[tuple[Path, tuple[str, ...]], ...] = ()

    def discovered(self, project: Project) -> dict[str, tuple[str, ...]]:
        """What the build lock must record: what it records now, and what was found since."""
        known = {str(k): v for k, v in project.discovered}
        for package, needs in self.found:
            known[package] = tuple(sorted({*known.get(package, ()), *needs}))
        return known

    @property
    def up_to_date(self) -> bool:
        return not self.stale and not self.build_stale


def check_inputs(options: Options) -> None:
    """Check every input and what it pulls in with -r/-c, at any depth; a reference may name a
    lock that an earlier input writes."""
    entries = layout.lock_entries(options)
    for position, entry in enumerate(entries):
        earlier = frozenset(e.lock for e in entries[:position])
        check_input(entry.source, options.project_dir, produced=earlier)
        for ref in transitive_references(entry.source):
            if ref.suffix == ".in" and ref.is_file():
                check_input(ref, options.project_dir, produced=earlier)


def plan_locks(project: Project, *, upgrade: bool = False,
               upgrade_packages: Sequence[str] = (),
               found: Mapping[str, Sequence[str]] | None = None,
               added: Mapping[Path, Sequence[str]] | None = None) -> LockPlan:
    """`found`: what building found sdists to import undeclared (re-makes the build lock);
    `added`: requirements to add to the input of each of these locks (re-makes them). The locks
    are resolved with what `project` says the platform provides as constraints."""
    check_inputs(project.options)
    entries = project.entries
    stale: list[LockEntry] = []
    reasons: list[tuple[Path, str]] = []
    stale_locks: set[Path] = set()
    for entry in entries:
        reason = _stale_reason(project, entry, stale_locks)
        if added and added.get(entry.lock):
            reason = reason or ("the wheels built from its sdists require "
                                + ", ".join(added[entry.lock]))
        if upgrade or upgrade_packages:
            reason = reason or ("--upgrade" if upgrade else "--upgrade-package")
        if reason:
            stale.append(entry)
            stale_locks.add(entry.lock)
            reasons.append((entry.lock, reason))
    known = project.found()
    new = {str(canonicalize_name(k)): tuple(v) for k, v in (found or {}).items()
           if not set(v) <= set(known.get(canonicalize_name(k), ()))}
    build_lock = project.build_lock if project.uses_build_lock or new else None
    build_reason = None
    if build_lock is not None:
        header = read_header(build_lock)
        if new:
            build_reason = ("building found that " + ", ".join(sorted(new))
                            + " import(s) what they do not declare")
        elif stale:
            build_reason = "a lock it is constrained by is being re-made"
        elif header is None:
            build_reason = "no build lock yet"
        elif header.get("fingerprint") != build_fingerprint(project, {}):
            build_reason = "the overrides or the locks changed"
        if build_reason:
            reasons.append((build_lock, build_reason))
    return LockPlan(entries=entries, stale=tuple(stale), reasons=tuple(reasons),
                    upgrade=upgrade, upgrade_packages=tuple(upgrade_packages),
                    build_lock=build_lock, build_stale=build_reason is not None,
                    found=tuple(sorted(new.items())),
                    added=tuple((lock, tuple(lines)) for lock, lines in (added or {}).items()))


def _stale_reason(project: Project, entry: LockEntry, stale_locks: set[Path]) -> str | None:
    options = project.options
    header = read_header(entry.lock)
    if not entry.lock.is_file():
        return "no lock yet"
    if header is None:
        return "the lock was not made by wheelferry"
    if (header.get("python") != options.target.python
            or header.get("image") != options.target.image):
        return (f"the lock was made for python {header.get('python')} in "
                f"{header.get('image')}")
    if header.get("arch", "") != options.target.arch:
        return f"the lock was made for {header.get('arch') or 'an unrecorded machine'}"
    if header.get("provided", "") != provided_short(project.provided):
        return "what the platform provides changed"
    if any(ref in stale_locks for ref in transitive_references(entry.source)):
        return "a lock it references is being re-made"
    if header.get("fingerprint") != fingerprint(project, entry, {}):
        return f"{entry.source.name} or what it references changed"
    return None


@dataclass(frozen=True)
class Locked:
    """What `execute` did: the locks written (or removed), and the project as they now stand."""

    written: tuple[Path, ...]
    project: Project


def execute(engine: Engine, project: Project, target: Target, plan: LockPlan,
            reporter: Reporter) -> Locked:
    """Compile the stale locks in one container; replace them only if all succeeded. The
    Project read before is then out of date: use the one returned."""
    if plan.up_to_date:
        return Locked(written=(), project=project)
    options, provided = project.options, project.provided
    staging = layout.state_dir(options) / f"lock-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    try:
        # The inputs as they are now, copied for the container and fingerprinted from the same
        # bytes: an edit saved during a long resolution cannot be stamped as locked.
        snapshot = input_snapshot(plan)
        added = {entry.source: dict(plan.added).get(entry.lock, ()) for entry in plan.stale}
        for path, data in snapshot.items():
            copy = staging / "inputs" / layout.relative(options, path)
            copy.parent.mkdir(parents=True, exist_ok=True)
            extra = "".join(f"{line}\n" for line in added.get(path, ()))
            copy.write_bytes(data + (b"\n" if data and not data.endswith(b"\n") else b"")
                             + extra.encode() if extra else data)
        job = {
            "files": [{"in": layout.relative(options, e.source),
                       "out": layout.relative(options, e.lock)} for e in plan.stale],
            "upgrade": plan.upgrade,
            "upgrade_packages": list(plan.upgrade_packages),
            "resolver": options.build.resolver,
            "build_requires": build_requires_for_locking(project, plan.discovered(project)),
            "constraints": None,
            # Sdists found earlier to import undeclared build requirements: installed at once.
            "discovered": {str(k): list(v) for k, v in plan.discovered(project).items()},
            # The build lock, whenever anything is locked: locking may find that it is needed.
            "build_lock": {
                "out": layout.relative(options, layout.build_lock_path(options)),
                "constraints": [layout.relative(options, e.lock) for e in plan.entries],
            },
        }
        if provided is not None and provided.packages:
            (staging / "inputs" / PROVIDED_CONSTRAINTS).write_text(
                provided.constraints(options.platform.replace_provided))
            job["constraints"] = PROVIDED_CONSTRAINTS
        (staging / "plan.json").write_text(json.dumps(job, indent=2))
        spec = containers.lock_spec(options.target, options.index, toolchain=target.toolchain,
                                    out=staging)
        result = engine.run(spec, on_line=reporter.output)
        outcome = parse_outcome(read_json_object(staging / "result.json"))
        if not result.ok or not outcome.ok:
            raise lock_failure(project, failed=outcome.failed,
                               log="\n".join(result.tail))
        discoveries = _kept_discoveries(project, plan, staging, outcome.discovered)
        written = _stamped_locks(project, plan, staging, dict(snapshot), discoveries,
                                 produced_build_lock=outcome.build_lock)
        replace_all(written)
        for note in notes.after_lock(outcome.eras, discoveries, options.build.overrides):
            reporter.info(note)
        return Locked(written=tuple(written), project=read_project(options, provided))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _kept_discoveries(project: Project, plan: LockPlan, staging: Path,
                      reported: tuple[tuple[str, tuple[str, ...]], ...]
                      ) -> dict[str, tuple[str, ...]]:
    """What locking found (the container's report), kept for the packages the locks still pin."""
    found = dict(reported)
    if not plan.stale:
        return plan.discovered(project)
    pinned = set()
    for entry in plan.entries:
        lock = staging / "locks" / layout.relative(project.options, entry.lock)
        pinned |= {pin.name for pin in read_lock(lock if lock.is_file() else entry.lock)}
    return {package: needs for package, needs in found.items()
            if canonicalize_name(package) in pinned}


def _stamped_locks(project: Project, plan: LockPlan, staging: Path,
                   contents: dict[Path, bytes], discovered: Mapping[str, Sequence[str]], *,
                   produced_build_lock: bool) -> dict[Path, bytes | None]:
    """The new locks as they will be written, each with its fingerprint header; the build lock
    also records what locking found (None: a build lock that no longer applies goes)."""
    options = project.options
    for entry in plan.stale:
        contents[entry.lock] = (staging / "locks" / layout.relative(options, entry.lock)
                                ).read_bytes()
    finished: dict[Path, bytes | None] = {}
    for entry in plan.stale:
        # In order, so that a later lock's fingerprint covers an earlier lock exactly as it
        # is written (header included), as the next run will read it.
        fp = fingerprint(project, entry, contents)
        stamped = header_line(project, fp).encode() + contents[entry.lock]
        finished[entry.lock] = contents[entry.lock] = stamped
    build_lock = project.build_lock
    produced = staging / "locks" / layout.relative(options, build_lock)
    if produced_build_lock and produced.is_file():
        fp = build_fingerprint(project, contents, discovered)
        finished[build_lock] = (header_line(project, fp)
                                + layout.discovered_lines(discovered)).encode() \
            + produced.read_bytes()
    elif build_lock.is_file() and not discovered \
            and not any(o.states_build_environment for o in options.build.overrides):
        finished[build_lock] = None
    return finished


def input_snapshot(plan: LockPlan) -> dict[Path, bytes]:
    """Every file a resolution reads: each input, what it references at any depth, and the
    current locks (pip-compile keeps their pins where they still fit)."""
    files: set[Path] = {plan.build_lock} if plan.build_lock is not None else set()
    for entry in plan.entries:
        files.add(entry.source)
        files.update(transitive_references(entry.source))
        files.add(entry.lock)
    return {path: path.read_bytes() for path in sorted(files) if path.is_file()}
