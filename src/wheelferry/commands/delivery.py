"""The commands that deliver a wheelhouse to the platform and its reviewer, as the core offers
them: `init-script` (the platform's init.sh), `fingerprint` (the script the platform describes
itself with), `bundle` (one self-checking upload), `review` (the review pack), and `status`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wheelferry import __version__
from wheelferry.commands import status as statuses
from wheelferry.core import files
from wheelferry.core.report import Reporter
from wheelferry.core.runlock import project_run_lock
from wheelferry.onplatform import fingerprint as fingerprintscript
from wheelferry.project import layout as project
from wheelferry.project import manifest as mf
from wheelferry.project import wheelhouse as wh
from wheelferry.project.options import Options
from wheelferry.proving import state
from wheelferry.target import initscript

if TYPE_CHECKING:
    from wheelferry.bundling import reviewpack


def fingerprint(*, output: Path, reporter: Reporter) -> Path:
    """Write the script the platform describes itself with (stdlib only, run there once)."""
    text = (f"#!/usr/bin/env python3\n# Written by `wheelferry fingerprint` (wheelferry "
            f"{__version__}). On the platform:\n#     python3 {output.name} > platform.json\n"
            "# then, in [tool.wheelferry]: provided = \"platform.json\"\n"
            + initscript.pasted_source(fingerprintscript) + "\n")
    files.replace_file(output, text.encode("utf-8"), new_mode=0o755)
    reporter.info(f"wrote {output}: copy it to the platform, run 'python3 {output.name} > "
                  "platform.json' there once, bring platform.json back into the project and set "
                  "provided = \"platform.json\" in [tool.wheelferry]")
    return output


def init_script(options: Options, *, reporter: Reporter, output: Path | None = None) -> Path:
    """Write (or update the wheelferry block of) the platform's init.sh; warn when there is no
    wheelhouse to upload with it, or when it is not the one verify proved."""
    path = output if output is not None else project.init_script_path(options)
    if not path.is_absolute():
        path = Path.cwd() / path
    initscript.write(path, install_dir=options.platform.install_dir)
    reporter.info(f"wrote {path}: upload it to ~/persistent-home/init.sh and the wheelhouse "
                  f"folder to {options.platform.install_dir}")
    upload_warnings(options, reporter)
    return path


def upload_warnings(options: Options, reporter: Reporter) -> None:
    """What the user should know before uploading the wheelhouse (said by every upload step)."""
    if mf.read_manifest(options.wheelhouse) is None:
        reporter.warn(f"there is no wheelhouse at {options.wheelhouse} yet: run 'wheelferry "
                      "build' and 'wheelferry verify' before uploading.")
    elif not state.is_proven(options):
        reporter.warn(f"the wheelhouse at {options.wheelhouse} is not the one 'wheelferry "
                      "verify' last proved (never proven, or changed since): run 'wheelferry "
                      "verify' before uploading.")


def bundle(options: Options, *, reporter: Reporter, output: Path | None = None,
           since: str | None = None, review: bool = False,
           fail_on_vulnerable: bool = False) -> Path:
    """Write the wheelhouse as one self-checking installer file (a delta over `since`: the
    SHA256SUMS on the platform, or 'last'); keep a copy of its SHA256SUMS; return its path.
    With `review`, the review pack is written beside it and the bundle carries review.json and
    the SBOM."""
    # Imported here: the review's libraries (CycloneDX, ...) load only for the commands that
    # need them, and every other command starts faster.
    from wheelferry.bundling import bundle as bundling
    from wheelferry.bundling import reviewpack
    with project_run_lock(project.state_dir(options), command="bundle"):
        wh.recover(options.wheelhouse)
        path = output if output is not None else options.project_dir / bundling.DEFAULT_NAME
        if not path.is_absolute():
            path = Path.cwd() / path
        before = bundling.since_sums(options, since)
        if (options.wheelhouse / mf.SUMS).is_file():
            upload_warnings(options, reporter)
        pack = None
        if review:
            pack = _review_pack(options, reporter, fail_on_vulnerable=fail_on_vulnerable)
        with reporter.step(f"writing {path}"):
            plan = bundling.make(options, output=path, since=before,
                                 carried=None if pack is None else {
                                     reviewpack.JSON: pack.files[reviewpack.JSON],
                                     reviewpack.SBOM: pack.files[reviewpack.SBOM]})
        sums = (options.wheelhouse / mf.SUMS).read_bytes()
        if pack is not None:
            written = reviewpack.write(path.parent, pack)
            state.record_bundled_review(options, sums, pack.files[reviewpack.JSON])
            _said_review(pack, written, reporter)
        state.record_bundled_sums(options, sums)
    reporter.info(f"wrote {path}: {plan.summary()}")
    if plan.delta:
        reporter.info(f"a delta: on the platform, {options.platform.install_dir} must hold the "
                      f"wheelhouse whose {mf.SUMS} has sha256 {plan.since_sha256} (or at least "
                      "the wheels it keeps); it checks them first and otherwise changes nothing")
    reporter.info(f"upload this one file to the platform (to your home folder, wherever the "
                  f"upload lands) and run it there once: sh ~/{path.name} (--check only checks "
                  "it, --help says more)")
    return path


def review(options: Options, *, reporter: Reporter, output: Path | None = None,
           fail_on_vulnerable: bool = False) -> list[Path]:
    """Write the review pack (review.html, review.json, sbom.cdx.json, pylock.toml) of the
    wheelhouse on disk into `output` (default: the project folder, beside the bundle)."""
    from wheelferry.bundling import reviewpack  # loaded when used, as in bundle()

    with project_run_lock(project.state_dir(options), command="review"):
        wh.recover(options.wheelhouse)
        folder = output if output is not None else options.project_dir
        if not folder.is_absolute():
            folder = Path.cwd() / folder
        pack = _review_pack(options, reporter, fail_on_vulnerable=fail_on_vulnerable)
        written = reviewpack.write(folder, pack)
    _said_review(pack, written, reporter)
    return written


def _review_pack(options: Options, reporter: Reporter, *,
                 fail_on_vulnerable: bool) -> reviewpack.Pack:
    from wheelferry.bundling import reviewpack  # loaded when used, as in bundle()

    with reporter.step("gathering the review: metadata, licences, known vulnerabilities"):
        found = reviewpack.gather(options)
    pack = reviewpack.render(found)
    vulns = found.vulnerabilities
    if vulns.status != "checked":
        missing = [d for d in found.shipped if d.vulnerabilities != "checked"]
        reporter.warn(f"known vulnerabilities: {vulns.status} for {len(missing)} of "
                      f"{len(found.shipped)} distribution(s) ({vulns.source}): "
                      + "; ".join(f"{d.name} {d.version}: {d.not_checked_reason}"
                                  for d in missing[:5]))
    for dist in found.vulnerable:
        reporter.warn(f"{dist.name} {dist.version} has known vulnerabilities: "
                      + ", ".join(a.id for a in dist.advisories))
    unknown = [d for d in found.shipped if d.licence_source == "unknown"]
    if unknown:
        reporter.warn("unknown licence: " + ", ".join(f"{d.name} {d.version}" for d in unknown))
    reviewpack.check(found, fail_on_vulnerable=fail_on_vulnerable)
    return pack


def _said_review(pack: reviewpack.Pack, written: list[Path], reporter: Reporter) -> None:
    found = pack.review
    reporter.info(f"the review of {len(found.shipped)} distribution(s): "
                  f"{len(found.licences)} licence(s), vulnerabilities "
                  f"{found.vulnerabilities.status} ({found.vulnerabilities.found} known), "
                  + ("proven" if found.proof.proven else "NOT proven by verify"))
    for path in written:
        reporter.info(f"wrote {path}")


def status(options: Options) -> statuses.ProjectStatus:
    """Where the project stands, from its files alone (no engine)."""
    return statuses.project_status(options)
