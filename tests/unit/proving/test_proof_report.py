"""The install proof's report parsed once: what prove_install.py writes becomes frozen values, a
key it did not reach takes its default, and a value of the wrong kind stops verify with a
VerifyError instead of a traceback deep in the judging."""

from __future__ import annotations

from typing import Any

import pytest

from wheelferry.core.errors import VerifyError
from wheelferry.proving.proof_facts import ImportFailure, ImportOutcome
from wheelferry.proving.proof_report import (
    BrokenPackage,
    Run,
    SyntaxFault,
    import_outcome,
    parse,
)


def written(**parts: Any) -> dict[str, Any]:
    """A whole report, as prove_install.py writes it after a first start that reached the end."""
    report: dict[str, Any] = {
        "init": None, "missing": [], "check": None,
        "imports": [{"type": "ImportError", "message": "no _accel", "missing": None,
                     "output": "Traceback ...", "distribution": "up", "module": "up._accel",
                     "top": False, "stdlib": False}],
        "tried": {"up": ["up", "up._accel"]}, "broken": [
            {"distribution": "pandas", "version": "2.1.4", "module": "pandas",
             "replaced": ["numpy 2.0.0"], "error": "ImportError: numpy.core.multiarray"}],
        "imported": 2, "environment": {"up": "1.0", "numpy": "2.0.0"},
        "providers": {"up": "up"}, "libraries": {"libz.so.1": "up"},
        "extras": {"up": [["fast", "accel"]]}, "python": "3.10",
        "syntax": {"up": {"compiled": 3, "errors": [
            {"file": "up/tests/t.py", "line": 2, "message": "SyntaxError: x", "aside": True}]}},
        "smoke": {"code": -1, "output": "(stopped after 900 s)"}}
    return {**report, **parts}


def test_a_whole_report_becomes_frozen_values() -> None:
    found = parse(written())
    assert found.imports == (ImportFailure(
        distribution="up", module="up._accel", top=False, type="ImportError",
        message="no _accel", missing=None, stdlib=False, output="Traceback ..."),)
    assert found.tried == {"up": ("up", "up._accel")}
    assert found.broken == (BrokenPackage("pandas", "2.1.4", "pandas",
                                          "ImportError: numpy.core.multiarray",
                                          ("numpy 2.0.0",)),)
    assert (found.imported, found.python, found.check) == (2, "3.10", "")
    assert found.extras == {"up": (("fast", "accel"),)}
    assert found.libraries == {"libz.so.1": "up"}
    assert found.syntax == {"up": (SyntaxFault("up/tests/t.py", 2, "SyntaxError: x", True),)}
    assert found.smoke == Run(-1, "(stopped after 900 s)")
    assert found.init is None


def test_a_report_that_stopped_at_init_sh_takes_defaults_for_the_rest() -> None:
    found = parse({"init": {"code": 1, "output": "ERROR: no wheel"}, "missing": ["x==1"],
                   "check": None, "imports": [], "tried": {}, "broken": []})
    assert found.init == Run(1, "ERROR: no wheel")
    assert found.missing == ("x==1",)
    assert (found.imported, found.environment, found.syntax, found.smoke) == (0, {}, {}, None)


def test_a_failure_without_output_reads_as_an_empty_output() -> None:
    failure = parse(written(imports=[{"distribution": "d", "module": "m.x", "top": False,
                                      "type": "ImportError", "message": "no",
                                      "missing": None, "output": None}])).imports[0]
    assert failure.output == ""
    assert failure.missing is None


@pytest.mark.parametrize("parts", [
    {"imports": [{"distribution": "up", "module": "up._x", "type": 3}]},
    {"imports": [{"module": "up._x", "type": "ImportError"}]},
    {"imports": {"up._x": None}},
    {"tried": {"up": "up"}},
    {"missing": "x==1"},
    {"imported": "2"},
    {"imported": True},
    {"extras": {"up": [["fast"]]}},
    {"syntax": {"up": {"errors": [{"file": "f.py", "line": "2"}]}}},
    {"smoke": {"code": "1", "output": ""}},
    {"broken": [{"distribution": "pandas", "version": 2}]},
    {"environment": {"up": 1}},
])
def test_a_malformed_report_is_a_verify_error(parts: dict[str, Any]) -> None:
    with pytest.raises(VerifyError, match="the install proof's report has a malformed"):
        parse(written(**parts))


def test_a_report_that_is_not_an_object_is_a_verify_error() -> None:
    with pytest.raises(VerifyError):
        parse(["not", "a", "report"])


def test_an_import_outcome_is_none_or_its_type_and_message() -> None:
    assert import_outcome(None, where="it") is None
    assert import_outcome({"type": "crash", "message": "SIGSEGV", "missing": None,
                           "output": "x"}, where="it") == ImportOutcome("crash", "SIGSEGV")
    assert import_outcome({"type": "crash"}, where="it") == ImportOutcome("crash", "")
    for bad in ({"message": "no type"}, {"type": "E", "message": 3}, "ImportError"):
        with pytest.raises(VerifyError, match="the upstream check's report has a malformed"):
            import_outcome(bad, where="the upstream check's report")
