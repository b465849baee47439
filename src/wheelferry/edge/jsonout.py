"""`--json`: a command's answer as one JSON document on standard output, for programs.

Each document carries `schema` (raised when a field changes meaning or goes; new fields may be
added within a schema), `command` and `ok`. It holds the same facts as the text the command
prints; progress and messages stay on standard error. A failure is a document too: `ok` false
and `error` with its kind, message, hint, details and the exit code the process ends with."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from wheelferry.commands.caches import Cache, Pruned
from wheelferry.commands.caches import Entry as CacheEntry
from wheelferry.commands.status import ProjectStatus
from wheelferry.core.errors import WheelferryError
from wheelferry.project import manifest as mf
from wheelferry.proving.proof import Problem

SCHEMA = 1


def emit(document: Mapping[str, Any]) -> None:
    """Write the document, whole, on standard output."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()


def _document(command: str, ok: bool = True, **facts: Any) -> dict[str, Any]:
    return {"schema": SCHEMA, "command": command, "ok": ok, **facts}


def error(command: str, failure: WheelferryError) -> dict[str, Any]:
    return _document(command, ok=False, error={
        "kind": failure.title, "message": failure.message, "hint": failure.hint or "",
        "details": failure.details or "", "exit_code": failure.exit_code})


def status(project: str, found: ProjectStatus) -> dict[str, Any]:
    house = found.wheelhouse
    return _document(
        "status", project=project,
        target={"python": found.python, "image": found.image, "arch": found.arch},
        platform=found.platform, provided=found.provided, input_problem=found.input_problem,
        drift=found.drift,
        # The text's lines as they are printed: (subject, state).
        lines=[{"subject": subject, "state": text} for subject, text in found.rows()],
        locks=[{"path": lock.path, "fresh": lock.fresh, "reason": lock.reason}
               for lock in found.locks],
        wheelhouse={"path": house.path, "built": house.built, "wheels": house.wheels,
                    "size": house.size, "from_current_locks": house.from_current_locks,
                    "proven": house.proven, "proven_at": house.proven_at,
                    "provided": house.provided},
        ready=found.ready)


def this_run(record: mf.WheelRecord, reused: frozenset[str]) -> str:
    """What this run did for a wheel: reused, from_wheel_cache, built or downloaded."""
    if record.file in reused:
        return "reused"
    if record.from_wheel_cache:
        return "from_wheel_cache"
    return record.origin


def build(wheelhouse: str, manifest: mf.Manifest, reused: frozenset[str]) -> dict[str, Any]:
    """`reused`: the files of the wheels the build kept as they were."""
    target = manifest.target
    wheels = [{"name": w.name, "version": w.version, "file": w.file, "sha256": w.sha256,
               "size": w.size, "origin": w.origin,
               "this_run": this_run(w, reused),
               "sdist": None if w.sdist is None else {"file": w.sdist.file,
                                                      "sha256": w.sdist.sha256},
               "from_wheel_cache": w.from_wheel_cache,
               "build_requires": list(w.build_requires),
               "dated_build_requires": list(w.dated_build_requires)}
              for w in manifest.wheels]
    made_here = [w for w in wheels if w["this_run"] != "reused"]
    return _document(
        "build", wheelhouse=wheelhouse,
        target={"python": target.python, "version": target.version, "image": target.image,
                "image_id": target.image_id, "arch": target.arch},
        wheels=wheels,
        provided=[{"name": name, "version": version} for name, version in manifest.provided],
        provided_source=manifest.provided_source,
        summary={"wheels": len(wheels),
                 "built": sum(1 for w in wheels if w["origin"] == "built"),
                 "downloaded": sum(1 for w in wheels if w["origin"] == "downloaded"),
                 "from_wheel_cache": sum(1 for w in made_here
                                         if w["this_run"] == "from_wheel_cache"),
                 "reused": len(wheels) - len(made_here),
                 "size": manifest.size})


def _problem(problem: Problem) -> dict[str, str]:
    return {"subject": problem.subject, "text": problem.text, "cause": problem.cause,
            "advice": problem.advice}


def verify(wheelhouse: str, *, wheels: int, static_only: bool, image: str = "",
           user: str = "", platform_checked: bool = False,
           warnings: tuple[Problem, ...] = ()) -> dict[str, Any]:
    proof = None if static_only else {
        "image": image, "user": user, "network": "off", "init_script": "passed",
        "pip_check": "passed", "imports": "passed",
        "platform_packages": "passed" if platform_checked else "not checked"}
    return _document("verify", wheelhouse=wheelhouse, wheels=wheels,
                     static={"checksums": "passed", "wheels_match_manifest_and_locks": True},
                     static_only=static_only, proven=not static_only, proof=proof,
                     warnings=[_problem(w) for w in warnings])


def cache_info(found: list[tuple[Cache, list[CacheEntry]]]) -> dict[str, Any]:
    return _document("cache", action="info", caches=[
        {"name": cache.name, "holds": cache.holds,
         "path": None if cache.folder is None else str(cache.folder),
         "enabled": cache.folder is not None, "entries": len(entries),
         "size": sum(e.size for e in entries)} for cache, entries in found],
        size=sum(e.size for _, entries in found for e in entries))


def _entry(entry: CacheEntry) -> dict[str, Any]:
    return {"cache": entry.cache, "key": entry.key, "path": str(entry.path), "size": entry.size,
            "last_used": entry.last_used}


def cache_pruned(action: str, pruned: Pruned) -> dict[str, Any]:
    return _document("cache", action=action, removed=[_entry(e) for e in pruned.removed],
                     kept_in_use=[_entry(e) for e in pruned.kept_in_use], freed=pruned.freed,
                     remaining=pruned.remaining)
