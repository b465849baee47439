"""`review`: the review pack of the wheelhouse on disk, written beside the bundle: review.html
(the page), review.json (its facts), sbom.cdx.json (CycloneDX) and pylock.toml (PEP 751).

Gathered from the project's files (manifest, wheels, the last proof, the last bundle's
SHA256SUMS and review kept in `.wheelferry/bundles/`) and one network step, the vulnerability
lookup in the index's JSON API. All four files are written or none (a failed review leaves the
previous ones as they were)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from wheelferry.bundling import pylock, reviewpage, sbom, wheelmeta
from wheelferry.bundling import review as rv
from wheelferry.core.errors import LicenceNotAllowed, ReviewError, VulnerableError
from wheelferry.core.files import replace_all
from wheelferry.project import manifest as mf
from wheelferry.project.options import Options
from wheelferry.proving import state, vulnerabilities

HTML, JSON, SBOM, PYLOCK = "review.html", "review.json", "sbom.cdx.json", "pylock.toml"
FILES = (HTML, JSON, SBOM, PYLOCK)


@dataclass(frozen=True)
class Pack:
    review: rv.Review
    files: dict[str, bytes]


def gather(options: Options, *, check_vulnerabilities: bool = True,
           fetch: vulnerabilities.Fetch = vulnerabilities.fetch_json,
           now: datetime | None = None) -> rv.Review:
    """The review's facts for the wheelhouse on disk."""
    manifest = mf.read_manifest(options.wheelhouse)
    sums_path = options.wheelhouse / mf.SUMS
    if manifest is None or not sums_path.is_file():
        raise ReviewError(f"there is no wheelhouse at {options.wheelhouse} to review.",
                          hint="Run 'wheelferry build' and 'wheelferry verify' first.")
    sums = sums_path.read_bytes()
    environment = rv.target_environment(manifest.target.version, options.target.arch)
    metas: dict[str, wheelmeta.WheelMeta] = {}
    for record in manifest.wheels:
        try:
            metas[record.name] = wheelmeta.read(options.wheelhouse / record.file)
        except (OSError, ValueError) as exc:
            raise ReviewError(f"cannot read the metadata of {record.file} in "
                              f"{options.wheelhouse} ({exc}).",
                              hint="Run 'wheelferry verify' to check the wheelhouse, or "
                              "'wheelferry build' again.") from exc
    pinned = [r.name for r in manifest.wheels] + [name for name, _ in manifest.provided]
    dists = [_shipped(options, manifest, record, metas[record.name], pinned, environment)
             for record in manifest.wheels]
    dists += [rv.Distribution(name=name, version=version, licence="", licence_source="",
                              licence_note="", summary="", homepage="", origin="provided",
                              vulnerabilities="")
              for name, version in manifest.provided]
    checks = None
    if check_vulnerabilities:
        checks = vulnerabilities.check(((r.name, r.version) for r in manifest.wheels),
                                       base=vulnerabilities.api_base(options.index.index_url),
                                       fetch=fetch, now=now)
    dists = [rv.with_checks(d, checks) if d.origin != "provided" else d for d in dists]
    when = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    allowed = options.proof.allowed_licenses
    sums_sha256 = hashlib.sha256(sums).hexdigest()
    return rv.Review(
        project=options.project_dir.name, generated_at=when,
        platform=rv.Platform(
            python=options.target.python, python_version=manifest.target.version,
            arch=options.target.arch,
            image=manifest.target.image, image_digest=manifest.target.image_digest,
            install_dir=options.platform.install_dir, platform_image=options.platform.image or "",
            provided_source=manifest.provided_source),
        sums_sha256=sums_sha256,
        distributions=tuple(sorted(dists, key=lambda d: (d.origin == "provided", d.name))),
        proof=_proof(options),
        vulnerabilities=_summary(checks, len(manifest.wheels), when,
                                 vulnerabilities.api_base(options.index.index_url)),
        licences=rv.licence_rows(dists, allowed),
        changes=_changes(options, sums_sha256, dists), allowed_licenses=allowed)


def _shipped(options: Options, manifest: mf.Manifest, record: mf.WheelRecord,
             meta: wheelmeta.WheelMeta, pinned: list[str],
             environment: dict[str, str]) -> rv.Distribution:
    build = None
    if record.origin == "built" and record.sdist is not None:
        override = options.build.configured(record.name)
        build = rv.Build(
            sdist=record.sdist.file, sdist_sha256=record.sdist.sha256,
            image=manifest.target.image, image_digest=manifest.target.image_digest
            or manifest.target.image_id,
            build_requires=record.build_requires,
            discovered_build_requires=record.discovered_build_requires,
            dated_build_requires=record.dated_build_requires,
            system_packages=tuple(getattr(override, "system_packages", ()) or ()),
            grafted_libraries=meta.grafted, from_wheel_cache=bool(record.from_wheel_cache))
    return rv.Distribution(
        name=record.name, version=record.version, licence=meta.licence.name,
        licence_source=meta.licence.source, licence_note=meta.licence.text,
        summary=meta.summary, homepage=meta.homepage, origin=record.origin, wheel=record.file,
        wheel_sha256=record.sha256, size=record.size, build=build,
        requires=rv.requires_on_target(meta, pinned, environment))


def _proof(options: Options) -> rv.Proof:
    record = state.read_proof(options)
    if record is None:
        return rv.Proof(proven=False)
    return rv.Proof(proven=state.is_proven(options), at=record.proven_at, image=record.image,
                    image_id=record.image_id, warnings=record.warnings)


def _summary(checks: vulnerabilities.Checks | None, releases: int, when: str,
             source: str) -> rv.Vulnerabilities:
    if checks is None:
        return rv.Vulnerabilities(status=vulnerabilities.NOT_CHECKED, source="",
                                  checked_at=when, found=0)
    found = sum(len(r.advisories) for r in checks.releases)
    status = checks.status if releases else vulnerabilities.CHECKED
    return rv.Vulnerabilities(status=status, source=source, checked_at=checks.checked_at,
                              found=found)


def _changes(options: Options, sums_sha256: str,
             dists: list[rv.Distribution]) -> rv.Changes | None:
    """Against the newest bundle kept in `.wheelferry/bundles/` of another wheelhouse."""
    previous = state.previous_bundle(options, other_than=sums_sha256)
    if previous is None:
        return None
    before = mf.parse_sums(previous.sums.decode("utf-8", "replace"))
    licences = rv.licences_of(previous.review) if previous.review else {}
    return rv.changes(since=previous.sha256, since_at=previous.at, before=before,
                      before_licences=licences, now=dists)


def render(review: rv.Review) -> Pack:
    """The four files' bytes."""
    return Pack(review=review, files={
        HTML: reviewpage.render(review).encode("utf-8"),
        JSON: review.to_json().encode("utf-8"),
        SBOM: sbom.render(review).encode("utf-8"),
        PYLOCK: pylock.render(review).encode("utf-8"),
    })


def check(review: rv.Review, *, fail_on_vulnerable: bool) -> None:
    """Raise for a licence not allowed, then (when asked) for a known vulnerability."""
    refused = review.not_allowed
    if refused:
        listed = "; ".join(f"{d.name} {d.version} ({d.licence})" for d in refused)
        raise LicenceNotAllowed(
            f"{len(refused)} distribution(s) have a licence that 'allowed-licenses' does not "
            f"list: {listed}. No review files were written.",
            hint="Remove them from the requirements, or add their licence to "
            "'allowed-licenses' in [tool.wheelferry] once it is approved.")
    if fail_on_vulnerable and review.vulnerable:
        listed = "; ".join(f"{d.name} {d.version}: " + ", ".join(a.id for a in d.advisories)
                           for d in review.vulnerable)
        raise VulnerableError(
            f"known vulnerabilities in {len(review.vulnerable)} distribution(s): {listed}. "
            "No review files were written.",
            hint="Upgrade them (add a bound such as 'name>=FIXED' to the .in file, then "
            "'wheelferry build'), or run without --fail-on-vulnerable to review them.")


def write(folder: Path, pack: Pack) -> list[Path]:
    """All four files into `folder`, or none."""
    if not folder.is_dir():
        raise ReviewError(f"the folder {folder} does not exist.",
                          hint="Create it, or give another --output.")
    paths = {folder / name: data for name, data in pack.files.items()}
    theirs = [path for path in paths if path.is_file() and b"wheelferry" not in path.read_bytes()]
    if theirs:
        raise ReviewError(f"{', '.join(str(p) for p in theirs)} exists and was not written by "
                          "wheelferry (a lock of your own?); nothing was written.",
                          hint="Give another folder with --output (for bundle --review, "
                          "another bundle --output), or move that file away.")
    replace_all(dict(paths))
    return list(paths)


def make(options: Options, *, folder: Path, fail_on_vulnerable: bool = False) -> Pack:
    """Gather, check, render and write the review pack into `folder`."""
    review = gather(options)
    pack = render(review)
    check(review, fail_on_vulnerable=fail_on_vulnerable)
    write(folder, pack)
    return pack
