"""The upstream check: is a submodule that failed in the proof broken in its distribution as
published too? Run after the offline proof, in a separate short-lived container of the target
image with the configured index: each distribution as published (its wheel, else its sdist built
by pip), with what pip resolves for it, in a scratch venv; then the submodules imported there as
in the proof.

A distribution's verdict as published is remembered in the user cache, per image id, machine,
indexes, distribution, version and module: what a published release does in a given image does
not change, and the check costs a download and an install (15 s for matplotlib) on every verify.
Only a check that installed the release is remembered (a failed install may be the network's)."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from wheelferry.core.errors import VerifyError, WheelferryError
from wheelferry.core.files import remember_json
from wheelferry.core.report import Reporter
from wheelferry.engine import specs as containers
from wheelferry.engine.client import Engine
from wheelferry.project import layout as project
from wheelferry.project.options import Options
from wheelferry.proving.proof import Upstream
from wheelferry.proving.proof_facts import ImportOutcome
from wheelferry.proving.proof_report import import_outcome
from wheelferry.proving.verdicts import Verdict

MARKER = "WHEELFERRY-UPSTREAM "
REPORT = "the upstream check's report"
# A module's import as published: its error, or None when it imported.
Outcome = ImportOutcome | None


def job(pending: Sequence[Verdict], versions: Mapping[str, str]) -> dict[str, object]:
    """One entry per distribution: its version and the modules to import."""
    modules: dict[str, list[str]] = {}
    for verdict in pending:
        found = modules.setdefault(verdict.failure.distribution, [])
        if verdict.failure.module not in found:
            found.append(verdict.failure.module)
    return {"upstream": [{"distribution": name, "version": versions.get(name, ""),
                          "modules": names} for name, names in sorted(modules.items())]}


def check(engine: Engine, options: Options, pending: Sequence[Verdict],
          versions: Mapping[str, str], reporter: Reporter) -> tuple[dict[str, Upstream], str]:
    """distribution -> what it did as published; and, when the check could not run at all,
    why (the failures then stay failures)."""
    try:
        image = engine.ensure_image(options.target.image, platform=options.target.engine_platform)
    except WheelferryError as error:
        return {}, f"the upstream check could not run ({error.message})"
    imports: dict[str, dict[str, Outcome]] = {}
    outputs: dict[str, str] = {}
    unknown = []
    for verdict in pending:
        name = verdict.failure.distribution
        known = _remembered(options, image.id, name, versions.get(name, ""),
                            verdict.failure.module)
        if known is None:
            unknown.append(verdict)
        else:
            imports.setdefault(name, {})[verdict.failure.module] = known[0]
            outputs[name] = known[1]
    # A distribution with any module still to check is checked whole.
    for verdict in unknown:
        imports.pop(verdict.failure.distribution, None)
    unknown = [v for v in pending if v.failure.distribution not in imports]
    found = {name: Upstream(installed=True, imports=modules, output=outputs[name])
             for name, modules in imports.items()}
    if found:
        reporter.info(f"the upstream check: {', '.join(sorted(found))} as published, "
                      "remembered from an earlier check")
    if not unknown:
        return found, ""
    checked, why = _run(engine, options, image.id, unknown, versions, reporter)
    for name, upstream in checked.items():
        if upstream.installed:
            for module, outcome in upstream.imports.items():
                _remember(options, image.id, name, versions.get(name, ""), module, outcome,
                          upstream.output)
    return {**found, **checked}, why


def _cache_file(options: Options, image_id: str, name: str, version: str, module: str) -> Path:
    return containers.cache_record("upstream", image_id, options.target.engine_platform,
                                   options.index.index_url,
                                   list(options.index.extra_index_urls), name, version, module)


def _remembered(options: Options, image_id: str, name: str, version: str,
                module: str) -> tuple[Outcome, str] | None:
    """(the module's import outcome, the install's output) from an earlier check, or None."""
    if not version:
        return None
    data = containers.recall(_cache_file(options, image_id, name, version, module))
    if "outcome" not in data:
        return None
    try:  # an entry that does not parse (an older or damaged one) is checked again
        outcome = import_outcome(data["outcome"], where="a remembered upstream check")
    except VerifyError:
        return None
    return outcome, str(data.get("output") or "")


def _remember(options: Options, image_id: str, name: str, version: str, module: str,
              outcome: Outcome, output: str) -> None:
    if version:
        error = None if outcome is None else {"type": outcome.type, "message": outcome.message}
        remember_json(_cache_file(options, image_id, name, version, module),
                      {"outcome": error, "output": output})


def _run(engine: Engine, options: Options, image_id: str, pending: Sequence[Verdict],
         versions: Mapping[str, str], reporter: Reporter) -> tuple[dict[str, Upstream], str]:
    job_dir = project.state_dir(options) / f"upstream-{uuid.uuid4().hex[:12]}"
    try:
        job_dir.mkdir(parents=True)
        (job_dir / "job.json").write_text(json.dumps(job(pending, versions)))
        spec = containers.upstream_check_spec(options.target, options.index, image_id=image_id,
                                              job_dir=job_dir)
        result = engine.run(spec, on_line=reporter.output)
    except WheelferryError as error:
        return {}, f"the upstream check could not run ({error.message})"
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    found = result.marked(MARKER)
    if found is None:
        return {}, f"the upstream check did not finish (exit code {result.exit_code})"
    try:
        return parse(json.loads(found)), ""
    except VerifyError as error:
        return {}, f"the upstream check could not be read ({error.message})"


def parse(data: object) -> dict[str, Upstream]:
    """upstream_check.py's report (incontainer/messages.py: UpstreamReport per distribution):
    distribution -> what it did as published; VerifyError on a value of the wrong kind."""
    if not isinstance(data, dict):
        raise _malformed("the report")
    found = {}
    for name, entry in data.items():
        if not isinstance(name, str) or not isinstance(entry, dict) \
                or not isinstance(entry.get("installed", False), bool) \
                or not isinstance(entry.get("output") or "", str) \
                or not isinstance(entry.get("imports") or {}, dict):
            raise _malformed(str(name))
        imports = entry.get("imports") or {}
        if not all(isinstance(module, str) for module in imports):
            raise _malformed(name)
        found[name] = Upstream(
            installed=bool(entry.get("installed")),
            imports={module: import_outcome(error, where=REPORT)
                     for module, error in imports.items()},
            output=str(entry.get("output") or ""))
    return found


def _malformed(key: str) -> VerifyError:
    return VerifyError(f"{REPORT} has a malformed {key!r}.")
