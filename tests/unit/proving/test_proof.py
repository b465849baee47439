"""The proof script's report read into problems, warnings and submodules left to the upstream
check; the upstream check's answers settling those; each problem shown with its cause and fix."""

from __future__ import annotations

from typing import Any

from wheelferry.proving.proof import (
    Findings,
    Problem,
    Upstream,
    import_problem,
    read_report,
    same_failure,
    settle,
)
from wheelferry.proving.proof_facts import Facts, ImportFailure, ImportOutcome
from wheelferry.proving.proof_report import ProofReport, parse
from wheelferry.proving.verdicts import UPSTREAM, Verdict

PROJECT = Facts(default_input="requirements/base.in", image="python:3.10")


def imported(dist: str, module: str, error: dict[str, Any] | None = None, *,
             top: bool = True) -> dict[str, Any]:
    return {"distribution": dist, "module": module, "top": top, "type": "ImportError",
            "missing": None, "output": "", "stdlib": False, **(error or {})}


def report(**parts: Any) -> ProofReport:
    """The report as prove_install.py writes it, parsed as verify parses it."""
    base: dict[str, Any] = {"init": None, "missing": [], "check": None, "imports": [],
                            "tried": {}, "broken": [], "imported": 0, "environment": {},
                            "providers": {}, "libraries": {}, "extras": {}}
    return parse({**base, **parts})


def test_a_clean_report_has_nothing_to_say() -> None:
    found = read_report(report(imported=7, tried={"a": ["a"]}), exit_code=0, project=PROJECT)
    assert found == Findings(imported=7)


def test_failures_warnings_and_pending_are_sorted_by_verdict() -> None:
    found = read_report(report(
        imports=[imported("gui", "gui._backend", {"message": "libwferryfx-gui.so.1: cannot open "
                                                  "shared object file: No such file or "
                                                  "directory"}, top=False),
                 imported("bad", "bad", {"message": "broken"}),
                 imported("up", "up._accel", {"message": "broken in 1.0"}, top=False)],
        tried={"gui": ["gui", "gui._backend"], "bad": ["bad"], "up": ["up", "up._accel"]}),
        exit_code=1, project=PROJECT)
    assert [p.subject for p in found.problems] == ["import bad"]
    assert found.problems[0].text == "(bad) ImportError: broken"
    assert [p.subject for p in found.warnings] == ["import gui._backend"]
    assert "python:3.10 lacks" in found.warnings[0].cause
    assert [v.failure.module for v in found.pending] == ["up._accel"]


def test_the_report_gives_the_facts_that_decide_an_extra() -> None:
    """black's blackd: the extra is read from the report, and black's own module imported."""
    found = read_report(report(
        imports=[imported("black", "blackd", {"message": "no aiohttp", "missing": "aiohttp"})],
        tried={"black": ["black", "blackd"]}, extras={"black": [["aiohttp", "d"]]},
        providers={"black": "black", "blackd": "black"}), exit_code=1, project=PROJECT)
    assert found.problems == ()
    assert found.warnings[0].advice == "add 'black[d]' to requirements/base.in if you use it"


def test_init_pip_check_and_a_broken_platform_package_say_what_to_do() -> None:
    found = read_report(report(missing=["x==1"], init={"output": "pip said no"}), exit_code=1,
                        project=PROJECT)
    assert found.problems[0].subject == "init.sh"
    assert "pip said no" in found.problems[0].text
    assert "wheelferry build" not in found.problems[0].advice
    found = read_report(report(check="a 1 has requirement b<2, but you have b 2", broken=[
        {"distribution": "pandas", "version": "2.1.4", "module": "pandas", "replaced":
         ["numpy 2.2.6"], "error": "ValueError: numpy.dtype size changed"}]), exit_code=1,
        project=PROJECT)
    assert [p.subject for p in found.problems] == ["pip check", "the platform's pandas 2.1.4"]
    assert "requirements/base.in" in found.problems[0].advice
    assert found.problems[1].text == ("installing numpy 2.2.6 breaks it: import pandas fails "
                                      "with ValueError: numpy.dtype size changed")
    assert "replace-provided" in found.problems[1].advice


def test_a_failed_exit_with_nothing_reported_is_still_a_problem() -> None:
    found = read_report(report(), exit_code=3, project=PROJECT)
    assert [str(p) for p in found.problems] == ["the proof: exit code 3"]


def test_a_second_start_that_installs_again_is_a_problem() -> None:
    output = "wheelferry: installing the wheelhouse from /h/persistent-home/my-tools once\n"
    found = read_report(report(reinstalled=output), exit_code=0, project=PROJECT)
    [problem] = found.problems
    assert problem.subject == "init.sh"
    assert "did not just link the install the first start made" in problem.text
    assert "installing the wheelhouse from /h/persistent-home/my-tools" in problem.text


def pending(module: str = "up._accel", message: str = "broken in 1.0",
            kind: str = "ImportError") -> Findings:
    failure = ImportFailure("up", module, False, kind, message)
    return Findings(pending=(Verdict(failure, "other", UPSTREAM, "", "skip it"),))


def test_the_same_failure_as_published_is_a_warning_broken_upstream() -> None:
    there = ImportOutcome("ImportError", "broken in 1.0")
    settled = settle(pending(), {"up": Upstream(installed=True, imports={"up._accel": there})})
    assert settled.problems == ()
    assert settled.pending == ()
    assert "broken upstream, not by the wheelhouse" in settled.warnings[0].cause
    assert settled.warnings[0].advice == ""


def test_what_imports_as_published_fails_and_says_the_wheelhouse_differs() -> None:
    settled = settle(pending(), {"up": Upstream(installed=True, imports={"up._accel": None})})
    assert settled.warnings == ()
    assert "the difference is in the wheelhouse" in settled.problems[0].cause
    assert settled.problems[0].advice == "skip it"


def test_a_different_failure_as_published_stays_a_failure() -> None:
    there = ImportOutcome("AttributeError", "no attribute x")
    settled = settle(pending(), {"up": Upstream(installed=True, imports={"up._accel": there})})
    assert "fails differently (AttributeError: no attribute x)" in settled.problems[0].cause


def test_an_unreachable_index_keeps_the_failure_and_says_so() -> None:
    output = ("WARNING: Retrying ... NewConnectionError('<pip._vendor.urllib3.connection."
              "HTTPConnection>: Failed to establish a new connection: [Errno 111] Connection "
              "refused')\nERROR: No matching distribution found for up==1.0")
    settled = settle(pending(), {"up": Upstream(installed=False, output=output)})
    assert "could not reach the index" in settled.problems[0].cause
    other = settle(pending(), {"up": Upstream(installed=False, output="ERROR: no wheel")})
    assert "could not install up as published (ERROR: no wheel)" in other.problems[0].cause


def test_a_check_that_did_not_run_keeps_the_failure_with_its_reason() -> None:
    settled = settle(pending(), {}, reason="the upstream check could not run (no engine)")
    assert settled.problems[0].cause == "the upstream check could not run (no engine)"


def test_failures_compare_without_their_paths_and_crashes_only_with_crashes() -> None:
    here = ImportFailure("d", "m.x", False, "ImportError", "/home/u/.local/lib/python3.10/site-"
                         "packages/m/x.so: cannot open it")
    assert same_failure(here, ImportOutcome("ImportError", "/tmp/wheelferry-upstream-1/"
                                                           "venv/m/x.so: cannot open it"))
    assert not same_failure(here, ImportOutcome("OSError", "/x.so: cannot open it"))
    crash = ImportFailure("d", "m.x", False, "crash", "the import crashed (SIGSEGV)")
    assert same_failure(crash, ImportOutcome("crash", "the import crashed (SIGABRT)"))
    assert not same_failure(crash, ImportOutcome("ImportError", "x"))


def test_a_problem_shows_its_cause_and_fix_on_lines_of_their_own() -> None:
    problem = Problem("import x", "(d) ImportError: no", advice="pin it", cause="it is old")
    assert str(problem) == "import x: (d) ImportError: no"
    assert problem.render() == "- import x: (d) ImportError: no\n  cause: it is old\n  fix: pin it"
    assert problem.render(advice=False) == "- import x: (d) ImportError: no\n  cause: it is old"
    assert Problem("a", "b").render() == "- a: b"
    verdict = Verdict(ImportFailure("d", "m", True, "crash", "it crashed"), "crash", "failure",
                      "", "x")
    assert import_problem(verdict) == Problem("import m", "(d) it crashed", advice="x")


def syntax(dist: str, *errors: tuple[str, bool]) -> dict[str, Any]:
    return {dist: {"compiled": 9, "errors": [
        {"file": file, "line": 1, "message": "SyntaxError: invalid syntax", "aside": aside}
        for file, aside in errors]}}


def test_a_module_that_does_not_compile_fails_and_one_in_a_tests_folder_only_warns() -> None:
    found = read_report(report(python="3.12", environment={"old": "1.0"}, syntax={
        **syntax("old", ("old/legacy.py", False), ("old/tests/test_x.py", True)),
        **syntax("fine", ("fine/examples/demo.py", True))}), exit_code=1, project=PROJECT)
    assert [p.render() for p in found.problems] == [
        "- old 1.0: 1 of its modules do not compile for Python 3.12 (a syntax error: code for "
        "another Python):\n    old/legacy.py, line 1: SyntaxError: invalid syntax\n"
        "  fix: pin a release of old written for Python 3.12 in requirements/base.in, or leave "
        "old out"]
    assert [str(w) for w in found.uncompiled] == [
        "fine: 1 file(s) in its tests, examples or docs folders do not compile for Python 3.12 "
        "(never imported by its modules):\n    fine/examples/demo.py, line 1: SyntaxError: "
        "invalid syntax",
        "old 1.0: 1 file(s) in its tests, examples or docs folders do not compile for Python "
        "3.12 (never imported by its modules):\n    old/tests/test_x.py, line 1: SyntaxError: "
        "invalid syntax"]
    assert found.warnings == ()


def test_many_files_that_do_not_compile_are_listed_ten_then_counted() -> None:
    files = [(f"old/m{n}.py", False) for n in range(45)]
    found = read_report(report(syntax=syntax("old", *files)), exit_code=1, project=PROJECT)
    text = str(found.problems[0])
    assert "45 of its modules do not compile" in text
    assert "old/m9.py" in text
    assert "old/m10.py" not in text
    assert text.endswith("and 35 more")


def test_a_failed_smoke_test_shows_its_output_tail_and_the_bound() -> None:
    output = "".join(f"line {n}\n" for n in range(30)) + (
        "AttributeError: module 'numpy' has no attribute 'int'\n")
    found = read_report(report(smoke={"code": 1, "output": output}), exit_code=1,
                        project=PROJECT)
    (problem,) = found.problems
    assert problem.subject == "smoke-test"
    assert problem.text.startswith("failed (exit code 1) on the desktop start, network off, "
                                   "as the platform's user:\nline 16\n")
    assert problem.text.endswith("AttributeError: module 'numpy' has no attribute 'int'")
    assert problem.advice == "add 'numpy<1.24' to requirements/base.in"
    assert "numpy 1.24 removed the alias np.int" in problem.cause
    passed = read_report(report(smoke={"code": 0, "output": "ok\n"}), exit_code=0,
                         project=PROJECT)
    assert passed.problems == ()
