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

from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)

from wheelferry import containers
from wheelferry import wheelhouse as wh
from wheelferry.build import lock_pins, target_tags
from wheelferry.config import Options
from wheelferry.engine import ContainerSpec, Engine, Mount
from wheelferry.errors import BuildError, VerifyError
from wheelferry.lock import build_lock_path
from wheelferry.pins import merge
from wheelferry.report import Reporter

PROOF_MARKER = "WHEELFERRY-PROOF "
NON_ROOT = "65534:65534"  # nobody: the platform never installs as root


@dataclass(frozen=True)
class Problem:
    subject: str
    text: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.text}"


def static_problems(options: Options) -> tuple[list[Problem], wh.Manifest | None]:
    """Every static problem of the wheelhouse, named by file or package."""
    folder = options.wheelhouse
    problems: list[Problem] = []
    if not folder.is_dir():
        return [Problem(str(folder), "no wheelhouse here; run 'wheelferry build' first")], None
    manifest = wh.read_manifest(folder)
    if manifest is None:
        return [Problem(wh.MANIFEST, "missing or unreadable; run 'wheelferry build'")], None
    sums_path = folder / wh.SUMS
    sums: dict[str, str] | None = None
    if sums_path.is_file():
        try:
            sums = wh.parse_sums(sums_path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            problems.append(Problem(wh.SUMS, "is not text (damaged); rebuild"))
            sums = {}
    if sums is None:
        problems.append(Problem(wh.SUMS, "missing"))
        sums = {}
    expected = {w.file: w.sha256 for w in manifest.wheels}
    for name in wh.METADATA_FILES:
        if name not in sums:
            problems.append(Problem(name, f"not listed in {wh.SUMS}"))
    for name, digest in sorted(sums.items()):
        path = folder / name
        if not path.is_file():
            problems.append(Problem(name, f"listed in {wh.SUMS} but missing"))
        elif wh.sha256_file(path) != digest:
            problems.append(Problem(name, f"does not match its checksum in {wh.SUMS} (changed "
                                    "after the build)"))
        if name not in expected and name not in wh.METADATA_FILES:
            problems.append(Problem(name, f"listed in {wh.SUMS} but not in the manifest"))
    for file, digest in sorted(expected.items()):
        if file not in sums:
            problems.append(Problem(file, f"in the manifest but not in {wh.SUMS}"))
        elif sums[file] != digest:
            problems.append(Problem(file, f"{wh.SUMS} and the manifest disagree on its hash"))
    known = set(expected) | {wh.SUMS, *wh.METADATA_FILES}
    for path in sorted(folder.iterdir()):
        if path.name not in known:
            problems.append(Problem(path.name, "stray file: not part of the build (remove it, or "
                                    "rebuild)"))
    problems += _pin_problems(options, manifest)
    return problems, manifest


def _pin_problems(options: Options, manifest: wh.Manifest) -> list[Problem]:
    problems: list[Problem] = []
    try:
        locks = lock_pins(options)
        pins = merge(pins for _, pins in locks)
    except BuildError as error:
        return [Problem("locks", error.message)]
    recorded = dict(manifest.locks)
    for lock, _ in locks:
        relative = str(lock.relative_to(options.project_dir))
        if relative not in recorded:
            problems.append(Problem(relative, "not part of this wheelhouse's build; rebuild"))
        elif recorded[relative] != wh.sha256_file(lock):
            problems.append(Problem(relative, "changed since the wheelhouse was built; rebuild"))
    build_lock = build_lock_path(options)
    if build_lock is not None:
        relative = str(build_lock.relative_to(options.project_dir))
        if not build_lock.is_file() or recorded.get(relative) != wh.sha256_file(build_lock):
            problems.append(Problem(relative, "the overrides' build lock is missing or changed "
                                    "since the wheelhouse was built; rebuild"))
    if manifest.target.python != options.python:
        problems.append(Problem(wh.MANIFEST, f"built for python {manifest.target.python}, but "
                                f"the configuration says {options.python}"))
    tags = target_tags(manifest.target.tags)
    by_name: dict[NormalizedName, list[wh.WheelRecord]] = {}
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
    for pin in pins:
        records = by_name.pop(pin.name, [])
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


def prove(engine: Engine, options: Options, manifest: wh.Manifest,
          reporter: Reporter) -> list[Problem]:
    """Install offline in a fresh target container; the problems found (empty: proven)."""
    base = engine.ensure_image(options.image)
    job_dir = options.state_dir / f"verify-{uuid.uuid4().hex[:12]}"
    job_dir.mkdir(parents=True)
    try:
        job = {"requirements": wh.REQUIREMENTS,
               "names": sorted({w.name for w in manifest.wheels}),
               "skip": list(options.skip_imports)}
        (job_dir / "job.json").write_text(json.dumps(job))
        os.chmod(job_dir, 0o755)
        os.chmod(job_dir / "job.json", 0o644)
        user = containers.host_user_or(NON_ROOT)
        spec = ContainerSpec(
            image=base.id,
            command=("python3", containers.script("prove_install.py")),
            purpose="verify",
            mounts=(Mount(options.wheelhouse, "/wheelhouse"),
                    Mount(job_dir, "/job"),
                    Mount(containers.SCRIPTS_DIR, containers.SCRIPTS_MOUNT)),
            environment=containers.pip_environment(options, online=False),
            network="none",
            user=user,
            workdir="/tmp",
        )
        result = engine.run(spec, on_line=reporter.output)
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    found = result.marked(PROOF_MARKER)
    if found is None:
        return [Problem("offline install", f"the proof did not finish (exit code "
                        f"{result.exit_code}):\n{result.tail_text(15)}")]
    report = json.loads(found)
    problems: list[Problem] = []
    if report.get("install"):
        tail = "\n".join(str(report["install"]).strip().splitlines()[-12:])
        problems.append(Problem("offline install", f"pip could not install the wheelhouse "
                                f"with the network off:\n{tail}"))
    if report.get("check"):
        problems.append(Problem("pip check", str(report["check"])))
    for failure in report.get("imports", []):
        problems.append(Problem(f"import {failure['module']}",
                                f"({failure['distribution']}) {failure['error']}"))
    if not result.ok and not problems:
        problems.append(Problem("offline install", f"exit code {result.exit_code}"))
    return problems


def raise_if(problems: list[Problem], what: str) -> None:
    if problems:
        listing = "\n".join(f"- {p}" for p in problems)
        raise VerifyError(f"{len(problems)} problem(s) {what}.",
                          hint="Fix them (usually: run 'wheelferry build' again) before "
                          "uploading.", details=listing)
