"""`verify`: prove a wheelhouse before it is uploaded.

First the static checks (static_checks.py: no engine; the files, the manifest, the locks and the
wheels agree). Then the proof: two desktop
starts, each in a fresh container of the platform's image (or the plain target image), network
off, as the platform's user, only persistent-home kept between them: the generated init.sh
installs the wheelhouse offline into persistent-home at the first and only links it at the
second; in each, `pip check` runs, every shipped module is imported (isolated), every shipped
`.py` is byte-compiled (in memory) and the smoke-test setting's code runs; the report is judged
by proof.py (failures, warnings, and submodules left to the upstream check).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import (
    canonicalize_name,
)

from wheelferry.core.errors import VerifyError
from wheelferry.core.report import Reporter
from wheelferry.engine import specs as containers
from wheelferry.engine.client import Engine, ImageInfo
from wheelferry.project import layout as project
from wheelferry.project import manifest as mf
from wheelferry.project.options import Options
from wheelferry.proving import proof_report, upstream
from wheelferry.proving.proof import Findings, Problem, read_report, settle
from wheelferry.proving.proof_facts import Facts
from wheelferry.proving.static_checks import static_problems
from wheelferry.target import initscript

PROOF_MARKER = "WHEELFERRY-PROOF "
SMOKE_TEST = "smoke_test.py"  # the smoke-test setting's code, in the proof's job folder
__all__ = ["Findings", "Problem", "ProofSite", "check_upstream", "plain_site", "prove", "raise_if",
           "static_problems"]


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
          reporter: Reporter) -> Findings:
    """Two desktop starts in fresh containers of the site's image, only persistent-home kept
    between them: the first installs the wheelhouse through the generated init.sh, the second
    only links that install; in both, pip check passes and what was shipped and the platform's
    own packages import. What the proof found, judged (problems, warnings, and submodule
    failures left to the upstream check)."""
    job_dir = project.state_dir(options) / f"verify-{uuid.uuid4().hex[:12]}"
    try:
        persistent = job_dir / "persistent-home"
        persistent.mkdir(parents=True)
        initscript.write(persistent / "init.sh", install_dir=options.platform.install_dir)
        (job_dir / "job").mkdir()
        first = _start(engine, options, manifest, site, reporter, job_dir=job_dir, number=1)
        if first.problems:
            return first
        second = _start(engine, options, manifest, site, reporter, job_dir=job_dir, number=2)
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    problems = tuple(replace(p, subject=f"{p.subject} (the second start)")
                     for p in second.problems)
    return replace(first, problems=problems)


def _start(engine: Engine, options: Options, manifest: mf.Manifest, site: ProofSite,
           reporter: Reporter, *, job_dir: Path, number: int) -> Findings:
    """One desktop start of the proof: a fresh container (and a fresh scratch home), the
    persistent-home the earlier starts left."""
    persistent = job_dir / "persistent-home"
    scratch = job_dir / "home" if site.scratch_home else None
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
    job = {"shipped": {w.name: w.version for w in manifest.wheels},
           "skip": list(options.proof.skip_imports),
           "init_script": "~/persistent-home/init.sh", "start": number}
    if options.proof.smoke_test:
        (job_dir / "job" / SMOKE_TEST).write_text(options.proof.smoke_test, encoding="utf-8")
        os.chmod(job_dir / "job" / SMOKE_TEST, 0o644)
        job["smoke_test"] = f"{containers.JOB_MOUNT}/{SMOKE_TEST}"
    (job_dir / "job" / "job.json").write_text(json.dumps(job))
    # The platform's user is not the invoking one: it must read the job and own a home.
    for folder in (job_dir, job_dir / "job", persistent, *([scratch] if scratch else [])):
        os.chmod(folder, 0o777 if folder in (persistent, scratch) else 0o755)
    os.chmod(job_dir / "job" / "job.json", 0o644)
    spec = containers.proof_spec(options.target, options.platform, wheelhouse=options.wheelhouse,
                                 image_id=site.image.id, user=site.user,
                                 home=site.home, persistent_home=persistent,
                                 scratch_home=scratch, job_dir=job_dir / "job")
    if number > 1:
        reporter.info(f"desktop start {number}: a fresh container, only persistent-home kept")
    result = engine.run(spec, on_line=reporter.output)
    found = result.marked(PROOF_MARKER)
    if found is None:
        return Findings(problems=(Problem(
            "the proof", f"did not finish (exit code {result.exit_code}):\n"
            f"{result.tail_text(15)}", advice="the container's output above says why "
            "('wheelferry verify -v' shows all of it)"),))
    return read_report(proof_report.parse(json.loads(found)), exit_code=result.exit_code,
                       project=project_facts(options, manifest, site.image.reference))


def project_facts(options: Options, manifest: mf.Manifest, image: str) -> Facts:
    """The project's side of judging the proof: which .in file pins each shipped distribution
    (where its fix goes), which were built here, the proof's image."""
    ins = {project.relative(options, entry.lock): project.relative(options, entry.source)
           for entry in project.lock_entries(options)}
    default = next(iter(ins.values()), "requirements.in")
    inputs = {str(canonicalize_name(w.name)): next((ins[lock] for lock in w.locks if lock in ins),
                                                   default) for w in manifest.wheels}
    built = frozenset(str(canonicalize_name(w.name)) for w in manifest.wheels
                      if w.origin == "built")
    left_out = {str(canonicalize_name(w.name)): w.left_out for w in manifest.wheels
                if w.left_out}
    return Facts(inputs=inputs, default_input=default, built=built, image=image,
                 left_out=left_out)


def check_upstream(engine: Engine, options: Options, manifest: mf.Manifest, findings: Findings,
                   reporter: Reporter) -> Findings:
    """Submodules the proof could not judge, tried with their distributions as published
    (online, in the target image): broken there too is a warning, anything else a failure."""
    names = sorted({v.failure.distribution for v in findings.pending})
    with reporter.step(f"the upstream check: {len(findings.pending)} submodule(s) of "
                       f"{', '.join(names)} as published, online in "
                       f"{options.target.image}"):
        results, reason = upstream.check(engine, options, findings.pending,
                                         {w.name: w.version for w in manifest.wheels}, reporter)
    if reason:
        reporter.warn(f"{reason}; the submodules it was to check count as failures")
    return settle(findings, results, reason=reason)


def grouped(problems: list[Problem] | tuple[Problem, ...]) -> list[Problem]:
    """Imports of one distribution that fail for one cause, as one problem (one numpy mismatch
    fails a hundred pandas modules: the fix is one line, and so is the problem)."""
    groups: dict[tuple[str, str, str], list[Problem]] = {}
    for problem in problems:
        dist = problem.text[1:].split(")", 1)[0] if problem.text.startswith("(") else ""
        key = (dist, problem.cause, problem.advice) if problem.subject.startswith("import ") \
            and dist else (problem.subject, problem.text, str(id(problem)))
        groups.setdefault(key, []).append(problem)
    merged = []
    for members in groups.values():
        first = members[0]
        if len(members) < 3:
            merged += members
            continue
        modules = [member.subject.removeprefix("import ") for member in members]
        merged.append(dataclasses.replace(
            first, subject=f"import {modules[0]} and {len(modules) - 1} more modules "
            f"({', '.join(modules[1:4])}{', ...' if len(modules) > 4 else ''})"))
    return merged


def raise_if(problems: list[Problem] | tuple[Problem, ...], what: str) -> None:
    """VerifyError listing each problem with its cause and the way out."""
    if not problems:
        return
    advice = {p.advice for p in problems}
    shared = advice.pop() if len(advice) == 1 else ""
    listing = "\n".join(p.render(advice=not shared) for p in grouped(problems))
    hint = (f"To fix: {shared}." if shared else "Each says how to fix it before uploading."
            if all(p.advice for p in problems) else "Fix them before uploading.")
    raise VerifyError(f"{len(problems)} problem(s) {what}.", hint=hint, details=listing)
