"""`verify`: prove a wheelhouse before it is uploaded.

Static checks (no engine): SHA256SUMS, manifest and locks agree; every file is listed and intact;
exactly one wheel per pin, at the pinned version, from an artifact the lock allows, with tags the
target accepts. Then the proof: a fresh container of the plain target image, networking off, as a
non-root user, installs the wheelhouse offline in hash-checking mode, runs `pip check`, and imports
every top-level module of every distribution it installed.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from typing import Any

from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)

from wheelferry import containers, initscript, project
from wheelferry import manifest as mf
from wheelferry.config import Options
from wheelferry.engine import Engine, ImageInfo
from wheelferry.errors import LockError, VerifyError
from wheelferry.files import sha256_file
from wheelferry.report import Reporter
from wheelferry.requirements import merge
from wheelferry.target import tag_set

PROOF_MARKER = "WHEELFERRY-PROOF "


@dataclass(frozen=True)
class Problem:
    subject: str
    text: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.text}"


def static_problems(options: Options) -> tuple[list[Problem], mf.Manifest | None]:
    """Every static problem of the wheelhouse, named by file or package."""
    folder = options.wheelhouse
    problems: list[Problem] = []
    if not folder.is_dir():
        return [Problem(str(folder), "no wheelhouse here; run 'wheelferry build' first")], None
    manifest = mf.read_manifest(folder)
    if manifest is None:
        return [Problem(mf.MANIFEST, "missing or unreadable; run 'wheelferry build'")], None
    sums_path = folder / mf.SUMS
    sums: dict[str, str] | None = None
    if sums_path.is_file():
        try:
            sums = mf.parse_sums(sums_path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            problems.append(Problem(mf.SUMS, "is not text (damaged); rebuild"))
            sums = {}
    if sums is None:
        problems.append(Problem(mf.SUMS, "missing"))
        sums = {}
    expected = {w.file: w.sha256 for w in manifest.wheels}
    for name in mf.METADATA_FILES:
        if name not in sums:
            problems.append(Problem(name, f"not listed in {mf.SUMS}"))
    for name, digest in sorted(sums.items()):
        path = folder / name
        if not path.is_file():
            problems.append(Problem(name, f"listed in {mf.SUMS} but missing"))
        elif sha256_file(path) != digest:
            problems.append(Problem(name, f"does not match its checksum in {mf.SUMS} (changed "
                                    "after the build)"))
        if name not in expected and name not in mf.METADATA_FILES:
            problems.append(Problem(name, f"listed in {mf.SUMS} but not in the manifest"))
    for file, digest in sorted(expected.items()):
        if file not in sums:
            problems.append(Problem(file, f"in the manifest but not in {mf.SUMS}"))
        elif sums[file] != digest:
            problems.append(Problem(file, f"{mf.SUMS} and the manifest disagree on its hash"))
    known = set(expected) | {mf.SUMS, *mf.METADATA_FILES}
    for path in sorted(folder.iterdir()):
        if path.name not in known:
            problems.append(Problem(path.name, "stray file: not part of the build (remove it, or "
                                    "rebuild)"))
    problems += _pin_problems(options, manifest)
    return problems, manifest


def _pin_problems(options: Options, manifest: mf.Manifest) -> list[Problem]:
    problems: list[Problem] = []
    try:
        locks = project.lock_pins(options)
        pins = merge(pins for _, pins in locks)
    except LockError as error:
        return [Problem("locks", error.message)]
    recorded = dict(manifest.locks)
    current = project.lock_sums(options)
    for lock, _ in locks:
        relative = project.relative(options, lock)
        if relative not in recorded:
            problems.append(Problem(relative, "not part of this wheelhouse's build; rebuild"))
        elif recorded[relative] != current[relative]:
            problems.append(Problem(relative, "changed since the wheelhouse was built; rebuild"))
    if project.uses_build_lock(options):
        relative = project.relative(options, project.build_lock_path(options))
        if relative not in current or recorded.get(relative) != current[relative]:
            problems.append(Problem(relative, "the overrides' build lock is missing or changed "
                                    "since the wheelhouse was built; rebuild"))
    if manifest.target.python != options.python:
        problems.append(Problem(mf.MANIFEST, f"built for python {manifest.target.python}, but "
                                f"the configuration says {options.python}"))
    tags = tag_set(manifest.target.tags)
    by_name: dict[NormalizedName, list[mf.WheelRecord]] = {}
    for record in manifest.wheels:
        try:
            name, version, _, wheel_tags = parse_wheel_filename(record.file)
        except InvalidWheelFilename:
            problems.append(Problem(record.file, "not a valid wheel file name"))
            continue
        by_name.setdefault(name, []).append(record)
        if wheel_tags.isdisjoint(tags):
            problems.append(Problem(record.file, "its tags match none of the target's"))
        if name != canonicalize_name(record.name) or str(version) != record.version:
            problems.append(Problem(record.file, f"the manifest says {record.name} "
                                    f"{record.version}"))
    provided = dict(manifest.provided)
    for pin in pins:
        records = by_name.pop(pin.name, [])
        if not records and provided.get(pin.name) == str(pin.version):
            continue  # the platform has it: resolved against, not shipped
        if not records:
            problems.append(Problem(f"{pin.name}=={pin.version}", "pinned but no wheel for it"))
            continue
        if len(records) > 1:
            files = ", ".join(r.file for r in records)
            problems.append(Problem(pin.name, f"more than one wheel: {files}"))
        record = records[0]
        if record.version != str(pin.version):
            problems.append(Problem(record.file, f"version {record.version}, but the lock pins "
                                    f"{pin.version}"))
        origin = record.sha256 if record.origin == "downloaded" else (
            record.sdist.sha256 if record.sdist else "")
        if not pin.allows(origin):
            problems.append(Problem(record.file, "made from a file whose hash the lock does not "
                                    "allow"))
    for name, records in sorted(by_name.items()):
        for record in records:
            problems.append(Problem(record.file, f"{name} is not pinned by any lock"))
    return problems


@dataclass(frozen=True)
class ProofSite:
    """Where the proof runs: an image, its user (never root) and that user's home; a plain
    target image's user has no home, so the proof gives it a scratch one."""

    image: ImageInfo
    user: str
    home: str
    scratch_home: bool


PLAIN_HOME = "/home/wheelferry-proof"


def plain_site(image: ImageInfo) -> ProofSite:
    return ProofSite(image=image, user=containers.host_user_or(containers.NON_ROOT),
                     home=PLAIN_HOME, scratch_home=True)


def prove(engine: Engine, options: Options, manifest: mf.Manifest, site: ProofSite,
          reporter: Reporter) -> list[Problem]:
    """A desktop start in a fresh container of the site's image: the generated init.sh installs
    the wheelhouse; the problems found (empty: proven)."""
    job_dir = project.state_dir(options) / f"verify-{uuid.uuid4().hex[:12]}"
    try:
        persistent = job_dir / "persistent-home"
        persistent.mkdir(parents=True)
        initscript.write(persistent / "init.sh", install_dir=options.install_dir)
        scratch = job_dir / "home" if site.scratch_home else None
        if scratch is not None:
            scratch.mkdir()
        job = {"shipped": {w.name: w.version for w in manifest.wheels},
               "skip": list(options.skip_imports),
               "init_script": "~/persistent-home/init.sh"}
        (job_dir / "job").mkdir()
        (job_dir / "job" / "job.json").write_text(json.dumps(job))
        # The platform's user is not the invoking one: it must read the job and own a home.
        for folder in (job_dir, job_dir / "job", persistent, *([scratch] if scratch else [])):
            os.chmod(folder, 0o777 if folder in (persistent, scratch) else 0o755)
        os.chmod(job_dir / "job" / "job.json", 0o644)
        spec = containers.proof_spec(options, image_id=site.image.id, user=site.user,
                                     home=site.home, persistent_home=persistent,
                                     scratch_home=scratch, job_dir=job_dir / "job")
        result = engine.run(spec, on_line=reporter.output)
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    found = result.marked(PROOF_MARKER)
    if found is None:
        return [Problem("the proof", f"did not finish (exit code {result.exit_code}):\n"
                        f"{result.tail_text(15)}")]
    return proof_problems(json.loads(found), exit_code=result.exit_code)


def proof_problems(report: dict[str, Any], *, exit_code: int) -> list[Problem]:
    """The proof script's report as problems for the user."""
    problems: list[Problem] = []
    if report.get("missing"):
        init = report.get("init") or {}
        tail = "\n".join(str(init.get("output", "")).strip().splitlines()[-12:])
        problems.append(Problem("init.sh", "the generated init.sh did not install "
                                f"{', '.join(report['missing'])} (network off, as the "
                                f"platform's user):\n{tail}"))
    if report.get("check"):
        problems.append(Problem("pip check", str(report["check"])))
    for failure in report.get("imports", []):
        problems.append(Problem(f"import {failure['module']}",
                                f"({failure['distribution']}) {failure['error']}"))
    for broken in report.get("broken", []):
        what = ", ".join(broken.get("replaced") or []) or "the wheelhouse"
        problems.append(Problem(
            f"the platform's {broken['distribution']} {broken['version']}",
            f"installing {what} breaks it: import {broken['module']} fails with "
            f"{broken['error']}"))
    if exit_code != 0 and not problems:
        problems.append(Problem("the proof", f"exit code {exit_code}"))
    return problems


def raise_if(problems: list[Problem], what: str) -> None:
    if not problems:
        return
    listing = "\n".join(f"- {p}" for p in problems)
    if any(p.subject.startswith("the platform's ") for p in problems):
        hint = ("What the wheelhouse ships must not replace what the platform's own packages "
                "need: let the platform provide those packages (leave them out of "
                "replace-provided, and keep provided = \"auto\" with platform-image), or pin "
                "versions that work with the platform's.")
    else:
        hint = "Fix them (usually: run 'wheelferry build' again) before uploading."
    raise VerifyError(f"{len(problems)} problem(s) {what}.", hint=hint, details=listing)
