"""`verify`'s static checks (no engine): SHA256SUMS, manifest and locks agree; every file is
listed and intact; exactly one wheel per pin, at the pinned version, from an artifact the lock
allows, with tags the target accepts (and, with a fingerprint, tags the platform supports).
Whatever they find, building again from the locks repairs.
"""

from __future__ import annotations

from dataclasses import replace

from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)

from wheelferry.core.errors import LockError
from wheelferry.core.files import sha256_file
from wheelferry.locking.project import read_project
from wheelferry.project import layout as project
from wheelferry.project import manifest as mf
from wheelferry.project.options import Options
from wheelferry.project.requirements import merge
from wheelferry.proving.proof import Problem
from wheelferry.target import provided as provided_mod
from wheelferry.target.image import tag_set

REBUILD = "run 'wheelferry build' again: it rebuilds the wheelhouse from the locks"


def static_problems(options: Options) -> tuple[list[Problem], mf.Manifest | None]:
    """Every static problem of the wheelhouse, named by file or package."""
    folder = options.wheelhouse
    problems: list[Problem] = []
    if not folder.is_dir():
        return [Problem(str(folder), "no wheelhouse here; run 'wheelferry build' first",
                        advice="run 'wheelferry build' first")], None
    manifest = mf.read_manifest(folder)
    if manifest is None:
        return [Problem(mf.MANIFEST, "missing or unreadable; run 'wheelferry build'",
                        advice=REBUILD)], None
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
    # Whatever the static checks find, building again from the locks repairs.
    return [p if p.advice else replace(p, advice=REBUILD) for p in problems], manifest


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
    if read_project(options).uses_build_lock:
        relative = project.relative(options, project.build_lock_path(options))
        if relative not in current or recorded.get(relative) != current[relative]:
            problems.append(Problem(relative, "the overrides' build lock is missing or changed "
                                    "since the wheelhouse was built; rebuild"))
    if manifest.target.python != options.target.python:
        problems.append(Problem(mf.MANIFEST, f"built for python {manifest.target.python}, but "
                                f"the configuration says {options.target.python}"))
    tags = tag_set(manifest.target.tags)
    described = provided_mod.from_file(options)
    platform_tags = tag_set(described.tags) if described is not None else frozenset()
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
        elif platform_tags and described is not None and wheel_tags.isdisjoint(platform_tags):
            problems.append(Problem(
                record.file, "its tags match none of those the platform supports "
                f"({described.source})", advice="the platform cannot install it: build with "
                "the platform's Python and machine (python, arch, an image like the "
                "platform's), or take the fingerprint on the platform again"))
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
