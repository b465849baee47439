"""The upstream check: is a submodule that failed in the proof broken in its distribution as
published too? Run after the offline proof, in a separate short-lived container of the target
image with the configured index: each distribution as published (its wheel, else its sdist built
by pip), with what pip resolves for it, in a scratch venv; then the submodules imported there as
in the proof."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Mapping, Sequence

from wheelferry import containers, project
from wheelferry.config import Options
from wheelferry.engine import Engine
from wheelferry.errors import WheelferryError
from wheelferry.proof import Upstream
from wheelferry.report import Reporter
from wheelferry.verdicts import Verdict

MARKER = "WHEELFERRY-UPSTREAM "


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
    job_dir = project.state_dir(options) / f"upstream-{uuid.uuid4().hex[:12]}"
    try:
        job_dir.mkdir(parents=True)
        (job_dir / "job.json").write_text(json.dumps(job(pending, versions)))
        image = engine.ensure_image(options.image, platform=options.engine_platform)
        spec = containers.upstream_check_spec(options, image_id=image.id, job_dir=job_dir)
        result = engine.run(spec, on_line=reporter.output)
    except WheelferryError as error:
        return {}, f"the upstream check could not run ({error.message})"
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    found = result.marked(MARKER)
    if found is None:
        return {}, f"the upstream check did not finish (exit code {result.exit_code})"
    return {name: Upstream(installed=bool(data.get("installed")),
                           imports=dict(data.get("imports") or {}),
                           output=str(data.get("output") or ""))
            for name, data in json.loads(found).items()}, ""
