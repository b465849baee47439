"""The install proof's report, judged (verdicts.py) into what fails verify and what is only a
warning, each with its cause and the way out; and the submodule failures left to the upstream
check, settled by what the distribution does as published.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from wheelferry.proving.bounds import smoke_advice
from wheelferry.proving.proof_facts import Facts, ImportFailure, ImportOutcome
from wheelferry.proving.proof_report import ProofReport, Run
from wheelferry.proving.verdicts import FAILURE, UPSTREAM, WARNING, Verdict, judge

PATHS = re.compile(r"(?:/[^\s:'\"]+)+")
PLATFORM_ADVICE = ("what the wheelhouse ships must not replace what the platform's own packages "
                   "need: let the platform provide those packages (leave them out of "
                   "replace-provided, and keep provided = \"auto\" with platform-image), or pin "
                   "versions that work with the platform's")


@dataclass(frozen=True)
class Problem:
    """Something that fails verify (or, as a warning, does not): what, why, and what to do."""

    subject: str
    text: str
    advice: str = ""
    cause: str = ""

    def __str__(self) -> str:
        return f"{self.subject}: {self.text}"

    def render(self, *, advice: bool = True) -> str:
        """The problem, then its cause and the way out, on lines of their own."""
        lines = [f"- {self}"]
        lines += [f"  cause: {self.cause}"] if self.cause else []
        lines += [f"  fix: {self.advice}"] if self.advice and advice else []
        return "\n".join(lines)


def import_problem(verdict: Verdict) -> Problem:
    f = verdict.failure
    first = (f.error.splitlines() or [""])[0]
    return Problem(f"import {f.module}", f"({f.distribution}) {first}".strip(),
                   advice=verdict.advice, cause=verdict.cause)


@dataclass(frozen=True)
class Findings:
    """The proof judged: problems fail verify, warnings are listed, pending submodule failures
    wait for the upstream check."""

    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    pending: tuple[Verdict, ...] = ()
    imported: int = 0
    # Shipped files in tests, examples or docs folders that do not compile: only warned about.
    uncompiled: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Upstream:
    """One distribution as published, in a scratch venv: installed or not (and pip's words),
    and each module's error there (None: it imported)."""

    installed: bool
    imports: Mapping[str, ImportOutcome | None] = field(default_factory=dict)
    output: str = ""

    @property
    def unreachable(self) -> bool:
        return bool(re.search(r"NewConnectionError|Failed to establish a new connection|"
                              r"Connection refused|Temporary failure in name resolution|Name or "
                              r"service not known|Network is unreachable|ConnectTimeout|Read "
                              r"timed out|Could not fetch URL", self.output))


def same_failure(here: ImportFailure, there: ImportOutcome) -> bool:
    """Whether the published release's import fails the way the wheelhouse's did (paths aside)."""
    if here.type == "crash" or there.type == "crash":
        return here.type == there.type
    first = (PATHS.sub("", there.message).splitlines() or [""])[0]
    return (here.type == there.type
            and (PATHS.sub("", here.message).splitlines() or [""])[0] == first)


def settle(findings: Findings, results: Mapping[str, Upstream], *, reason: str = "") -> Findings:
    """The pending submodule failures, decided by the upstream check: the same failure with the
    published release is a warning (broken upstream); anything else, or no answer (`reason` says
    why the check did not run), leaves it a failure."""
    problems, warnings = list(findings.problems), list(findings.warnings)
    for pending in findings.pending:
        f = pending.failure
        result = results.get(f.distribution)
        published = f"{f.distribution} as published"
        if result is None or (result.installed and f.module not in result.imports):
            note = reason or "the upstream check did not run"
        elif not result.installed:
            said = (result.output.strip().splitlines() or [""])[-1][:200]
            note = ("the upstream check could not reach the index" if result.unreachable
                    else f"the upstream check could not install {published}"
                    + (f" ({said})" if said else ""))
        elif (there := result.imports[f.module]) is None:
            note = (f"it imports with {published} (online, with what pip resolves for it): the "
                    "difference is in the wheelhouse")
        elif same_failure(f, there):
            warnings.append(import_problem(replace(pending, advice="", cause="; ".join(filter(
                None, [pending.cause, f"it fails the same way with {published}, installed "
                       "online: broken upstream, not by the wheelhouse"])))))
            continue
        else:
            note = (f"with {published} it fails differently ({there.type}: "
                    f"{there.message[:200]})")
        cause = "; ".join(filter(None, [pending.cause, note]))
        problems.append(import_problem(replace(pending, cause=cause)))
    return replace(findings, problems=tuple(problems), warnings=tuple(warnings), pending=())


def read_report(report: ProofReport, *, exit_code: int, project: Facts) -> Findings:
    """The proof script's report, judged with the project's facts."""
    failures = list(report.imports)
    failed = {(f.distribution, f.module) for f in failures}
    facts = replace(
        project, environment=dict(report.environment), providers=dict(report.providers),
        libraries=dict(report.libraries), extras=dict(report.extras),
        imported={d: frozenset(m for m in modules if (d, m) not in failed)
                  for d, modules in report.tried.items()})
    problems: list[Problem] = []
    if report.missing:
        init = report.init or Run()
        tail = "\n".join(init.output.strip().splitlines()[-12:])
        problems.append(Problem("init.sh", "the generated init.sh did not install "
                                f"{', '.join(report.missing)} (network off, as the "
                                f"platform's user):\n{tail}",
                                advice="the output above says why pip could not install them "
                                "offline; fix that cause (a wheel for another platform, a "
                                "requirement the wheelhouse lacks) before uploading"))
    if report.reinstalled:
        tail = "\n".join(report.reinstalled.strip().splitlines()[-12:])
        problems.append(Problem("init.sh", "a second desktop start (a fresh container, only "
                                "persistent-home kept) did not just link the install the first "
                                f"start made in persistent-home:\n{tail}",
                                advice="the output above says why; every start would pay for "
                                "an install on the platform"))
    if report.check:
        problems.append(Problem("pip check", report.check, advice=(
            "the installed distributions' requirements disagree: pin versions that agree with "
            f"each other and with the platform's packages in {facts.default_input}")))
    verdicts = [judge(failure, facts) for failure in failures]
    problems += [import_problem(v) for v in verdicts if v.severity == FAILURE]
    for broken in report.broken:
        what = ", ".join(broken.replaced) or "the wheelhouse"
        problems.append(Problem(
            f"the platform's {broken.distribution} {broken.version}",
            f"installing {what} breaks it: import {broken.module} fails with "
            f"{broken.error}", advice=PLATFORM_ADVICE))
    syntax, aside = compile_problems(report, facts)
    problems += syntax
    if report.smoke:
        problems += smoke_problems(report.smoke, facts)
    if exit_code != 0 and not problems and not verdicts:
        problems.append(Problem("the proof", f"exit code {exit_code}",
                                advice="the container's output above says why"))
    return Findings(problems=tuple(problems),
                    warnings=tuple(import_problem(v) for v in verdicts if v.severity == WARNING),
                    uncompiled=tuple(aside),
                    pending=tuple(v for v in verdicts if v.severity == UPSTREAM),
                    imported=report.imported)


SHOWN_FILES = 10


def compile_problems(report: ProofReport, facts: Facts
                     ) -> tuple[list[Problem], list[Problem]]:
    """Shipped .py files that do not compile for the target Python, one entry per distribution:
    its own modules fail verify, files in its tests, test, examples or docs folders only warn."""
    python = report.python or "the target Python"
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for dist, faults in sorted(report.syntax.items()):
        version = facts.environment.get(dist, "")
        subject = f"{dist} {version}".strip()
        for aside in (False, True):
            errors = [e for e in faults if e.aside == aside]
            if not errors:
                continue
            lines = [f"    {e.file}, line {e.line}: {e.message}"
                     for e in errors[:SHOWN_FILES]]
            lines += [f"    and {len(errors) - SHOWN_FILES} more"] if len(errors) > SHOWN_FILES \
                else []
            listing = "\n".join(lines)
            if aside:
                warnings.append(Problem(subject, f"{len(errors)} file(s) in its tests, examples "
                                        f"or docs folders do not compile for Python {python} "
                                        f"(never imported by its modules):\n{listing}"))
            else:
                problems.append(Problem(
                    subject, f"{len(errors)} of its modules do not compile for Python {python} "
                    f"(a syntax error: code for another Python):\n{listing}",
                    advice=f"pin a release of {dist} written for Python {python} in "
                    f"{facts.input_of(dist)}, or leave {dist} out"))
    return problems, warnings


def smoke_problems(smoke: Run, facts: Facts) -> list[Problem]:
    """The smoke test's failure, with its output's tail and, where the output shows old code on
    a newer library, the bound to add."""
    code = smoke.code
    if code == 0:
        return []
    output = smoke.output
    tail = "\n".join(output.strip().splitlines()[-15:])
    cause, advice = smoke_advice(output, facts)
    return [Problem("smoke-test", f"failed (exit code {code}) on the desktop start, network "
                    f"off, as the platform's user:\n{tail}", advice=advice, cause=cause)]
