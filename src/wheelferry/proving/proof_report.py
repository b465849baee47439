"""The install proof's report (incontainer/messages.py: ProofReport) and a module's import outcome
as the upstream check reports it, parsed once into frozen dataclasses, every value checked: they
come from a container. A key the script leaves out takes its default, as the proof writes only
what it reached; a value of the wrong kind is a VerifyError."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from wheelferry.core import reportvalues as values
from wheelferry.core.errors import VerifyError
from wheelferry.proving.proof_facts import ImportFailure, ImportOutcome


@dataclass(frozen=True)
class Run:
    """init.sh's run that did not install what was shipped, or the smoke test's: its exit code
    (-1: the smoke test was stopped after its timeout) and the end of its output."""

    code: int = 0
    output: str = ""


@dataclass(frozen=True)
class BrokenPackage:
    """A platform's distribution whose module imported before init.sh and fails after it."""

    distribution: str
    version: str
    module: str
    error: str
    replaced: tuple[str, ...] = ()  # what was shipped in place of the platform's ("name version")


@dataclass(frozen=True)
class SyntaxFault:
    """A shipped .py file that does not compile; `aside`: in a tests, examples or docs folder."""

    file: str
    line: int
    message: str
    aside: bool = False


@dataclass(frozen=True)
class ProofReport:
    """What the proof found: what init.sh left missing (and its run), what a later start
    reinstalled, pip check's complaint, the shipped modules tried (distribution -> modules) and
    those that failed, the platform's packages broken, the files that do not compile
    (distribution -> faults), the smoke test; and the facts judging a failure needs."""

    init: Run | None = None
    missing: tuple[str, ...] = ()
    reinstalled: str = ""
    check: str = ""
    imports: tuple[ImportFailure, ...] = ()
    tried: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    imported: int = 0
    broken: tuple[BrokenPackage, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    providers: Mapping[str, str] = field(default_factory=dict)
    libraries: Mapping[str, str] = field(default_factory=dict)
    extras: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    python: str = ""  # the proof's Python (major.minor), told when it compiled the files
    syntax: Mapping[str, tuple[SyntaxFault, ...]] = field(default_factory=dict)
    smoke: Run | None = None


PROOF = "the install proof's report"


def _malformed(key: str, where: str = PROOF) -> VerifyError:
    return VerifyError(f"{where} has a malformed {key!r}"
                       + ("; the wheelhouse was not proven." if where == PROOF else "."),
                       hint="Run again; if it repeats, report it with verify's output "
                       "(wheelferry verify -v).")


def _text(data: Mapping[str, object], key: str, default: str | None = None) -> str:
    """A string; required when there is no default. None stands for the default too (the
    proof writes null for what it did not reach)."""
    if data.get(key) is None and default is not None:
        return default
    return values.text(data, key, _malformed)


def _number(data: Mapping[str, object], key: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _malformed(key)
    return value


def _names(data: Mapping[str, object], key: str) -> dict[str, str]:
    found = values.mapping(data.get(key, {}), key, _malformed)
    if not all(isinstance(value, str) for value in found.values()):
        raise _malformed(key)
    return {name: str(value) for name, value in found.items()}


def _listed(data: Mapping[str, object], key: str) -> list[object]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _malformed(key)
    return value


def import_outcome(data: object, *, where: str) -> ImportOutcome | None:
    """A module's import as import_modules.py reports it: None (it imported) or its error's
    type and message; VerifyError (naming `where`) on anything else."""
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str) \
            or not isinstance(data.get("message", ""), (str, type(None))):
        raise _malformed("imports", where)
    return ImportOutcome(type=data["type"], message=data.get("message") or "")


def _failure(value: object) -> ImportFailure:
    item = values.mapping(value, "imports", _malformed)
    missing = item.get("missing")
    if missing is not None and not isinstance(missing, str):
        raise _malformed("imports")
    return ImportFailure(distribution=_text(item, "distribution"), module=_text(item, "module"),
                         top=values.flag(item, "top", _malformed, True),
                         type=_text(item, "type"),
                         message=_text(item, "message", ""), missing=missing,
                         stdlib=values.flag(item, "stdlib", _malformed, False),
                         output=_text(item, "output", ""))


def _broken(value: object) -> BrokenPackage:
    item = values.mapping(value, "broken", _malformed)
    return BrokenPackage(distribution=_text(item, "distribution"),
                         version=_text(item, "version"), module=_text(item, "module"),
                         error=_text(item, "error"),
                         replaced=values.texts(item.get("replaced") or [], "broken", _malformed))


def _run(value: object, key: str) -> Run | None:
    if value is None:
        return None
    item = values.mapping(value, key, _malformed)
    return Run(code=_number(item, "code", 0), output=_text(item, "output", ""))


def _extras(data: Mapping[str, object]) -> dict[str, tuple[tuple[str, str], ...]]:
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    for name, pairs in values.mapping(data.get("extras", {}), "extras", _malformed).items():
        if not isinstance(pairs, list) or not all(
                isinstance(pair, list) and len(pair) == 2
                and all(isinstance(part, str) for part in pair) for pair in pairs):
            raise _malformed("extras")
        found[name] = tuple((str(pair[0]), str(pair[1])) for pair in pairs)
    return found


def _syntax(data: Mapping[str, object]) -> dict[str, tuple[SyntaxFault, ...]]:
    found: dict[str, tuple[SyntaxFault, ...]] = {}
    for name, result in values.mapping(data.get("syntax") or {}, "syntax", _malformed).items():
        faults = []
        for error in _listed(values.mapping(result, "syntax", _malformed), "errors"):
            item = values.mapping(error, "syntax", _malformed)
            faults.append(SyntaxFault(file=_text(item, "file"), line=_number(item, "line", 0),
                                      message=_text(item, "message", ""),
                                      aside=values.flag(item, "aside", _malformed, False)))
        found[name] = tuple(faults)
    return found


def parse(data: object) -> ProofReport:
    """The JSON after `WHEELFERRY-PROOF `, as the host judges it; VerifyError when a value is
    not of the kind prove_install.py writes."""
    report = values.mapping(data, "the report", _malformed)
    tried = values.mapping(report.get("tried", {}), "tried", _malformed)
    return ProofReport(
        init=_run(report.get("init"), "init"),
        missing=values.texts(report.get("missing") or [], "missing", _malformed),
        reinstalled=_text(report, "reinstalled", ""), check=_text(report, "check", ""),
        imports=tuple(_failure(item) for item in _listed(report, "imports")),
        tried={name: values.texts(modules, "tried", _malformed)
               for name, modules in tried.items()},
        imported=_number(report, "imported", 0),
        broken=tuple(_broken(item) for item in _listed(report, "broken")),
        environment=_names(report, "environment"), providers=_names(report, "providers"),
        libraries=_names(report, "libraries"), extras=_extras(report),
        python=_text(report, "python", ""), syntax=_syntax(report),
        smoke=_run(report.get("smoke"), "smoke"))
