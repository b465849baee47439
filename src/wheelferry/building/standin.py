"""A stand-in for the platform when only its freeze file is known (`provided` is a file and there
is no `platform-image`): the plain target image with the provided pins of the lock installed as
root into its system site-packages, as a platform image holds them. The proof's desktop start
then finds what the platform would provide. Committed once per (image, provided pins).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Sequence

from wheelferry.building import fetch
from wheelferry.building.plan import build_job
from wheelferry.core.errors import ImageError
from wheelferry.core.report import Reporter
from wheelferry.engine import specs as containers
from wheelferry.engine.client import Engine, ImageInfo
from wheelferry.locking.project import read_project
from wheelferry.project import layout as project
from wheelferry.project.options import Options
from wheelferry.project.requirements import Pin
from wheelferry.target.image import Target, run_committed

STANDIN_REPOSITORY = "wheelferry-standin"
STANDIN_RECIPE = "1"


def standin_reference(base: ImageInfo, pins: Sequence[Pin]) -> str:
    key = json.dumps([STANDIN_RECIPE, base.id, sorted(pin.line for pin in pins)])
    return f"{STANDIN_REPOSITORY}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def ensure(engine: Engine, options: Options, target: Target, pins: Sequence[Pin],
           reporter: Reporter) -> ImageInfo:
    """The stand-in image for these provided pins, made (fetched and built hash-checked like
    any pin, then installed as root) when it is not there yet."""
    reference = standin_reference(target.image, pins)
    found = engine.image(reference)
    if found is not None:
        return found
    work = project.state_dir(options) / f"standin-{uuid.uuid4().hex[:12]}"
    work.mkdir(parents=True)
    try:
        by_name = {pin.name: pin for pin in pins}
        current = read_project(options)
        builds = [build_job(pin, current.override_for(pin.name), by_name) for pin in pins]
        fetched = fetch.fetch_and_build(engine, options, target, builds, work, reporter)
        files = [source.name for _, _, source in fetched]
        spec = containers.standin_spec(options.target, image_id=target.image.id,
                                       wheels=work / "wheels", files=files)
        result = run_committed(engine, spec, reference=reference, base_id=target.image.id,
                               on_line=reporter.output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not result.ok:
        raise ImageError(
            f"installing the provided packages into a stand-in of the platform (from "
            f"{options.target.image}) failed (exit code {result.exit_code}).",
            hint="Check the provided-packages file, or set 'platform-image' to the platform's "
            "own image.", details=result.tail_text())
    made = engine.image(reference)
    assert made is not None
    return made
