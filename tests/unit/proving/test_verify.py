"""verify.py's own parts: problems listed with their cause and fix, one hint only when they
share it; the project's side of judging the proof (which .in file each fix goes to, what was
built here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support import project_options

from wheelferry.core.errors import VerifyError
from wheelferry.project import manifest as mf
from wheelferry.proving.static_checks import REBUILD
from wheelferry.proving.verify import Problem, project_facts, raise_if

TARGET = mf.TargetRecord(python="3.10", version="3.10.13", image="python:3.10", image_id="sha:1",
                         image_digest="sha:1", tags=("py3-none-any",))


def wheel(name: str, *, origin: mf.Origin = "downloaded",
          locks: tuple[str, ...] = ()) -> mf.WheelRecord:
    return mf.WheelRecord(name=name, version="1.0", file=f"{name}-1.0-py3-none-any.whl",
                          sha256="0" * 64, size=1, origin=origin, locks=locks)


def test_no_problems_raise_nothing() -> None:
    raise_if([], "anywhere")


def test_each_problem_is_listed_with_its_cause_and_its_own_fix() -> None:
    with pytest.raises(VerifyError) as raised:
        raise_if([Problem("import a", "(a) ImportError: x", advice="add 'numpy<2' to base.in",
                          cause="built for numpy 1"),
                  Problem("import b", "(b) crashed", advice="add 'b' to skip-imports")],
                 "in the offline install proof")
    error = raised.value
    assert error.exit_code == 6
    assert error.message == "2 problem(s) in the offline install proof."
    assert error.hint == "Each says how to fix it before uploading."
    assert error.details == ("- import a: (a) ImportError: x\n  cause: built for numpy 1\n"
                             "  fix: add 'numpy<2' to base.in\n"
                             "- import b: (b) crashed\n  fix: add 'b' to skip-imports")
    assert "wheelferry build" not in error.render()


def test_problems_that_share_their_fix_say_it_once() -> None:
    with pytest.raises(VerifyError) as raised:
        raise_if([Problem("a.whl", "changed", advice=REBUILD),
                  Problem("b.whl", "missing", advice=REBUILD)], "in wheelhouse")
    assert raised.value.hint == f"To fix: {REBUILD}."
    assert raised.value.details == "- a.whl: changed\n- b.whl: missing"


def test_the_project_facts_name_each_distributions_input_and_what_was_built(
        tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "a\n", "science.in": "b\n"})
    manifest = mf.Manifest(target=TARGET, locks=(), wheels=(
        wheel("A", locks=("requirements/base.txt",)),
        wheel("b_pkg", origin="built", locks=("requirements/science.txt",)),
        wheel("c", locks=())))
    facts = project_facts(options, manifest, "python:3.10")
    assert dict(facts.inputs) == {"a": "requirements/base.in", "b-pkg": "requirements/science.in",
                                  "c": "requirements/base.in"}
    assert facts.default_input == "requirements/base.in"
    assert facts.built == frozenset({"b-pkg"})
    assert facts.image == "python:3.10"


def test_one_cause_over_many_modules_of_a_distribution_is_one_problem() -> None:
    from wheelferry.proving.proof import Problem
    from wheelferry.proving.verify import grouped

    cause, fix = "compiled against another numpy", "add 'numpy<2' to requirements.in"
    many = [Problem(f"import pandas.mod{n}", "(pandas) ValueError: numpy.dtype size changed",
                    advice=fix, cause=cause) for n in range(96)]
    other = Problem("import lightgbm", "(lightgbm) ValueError: numpy.dtype size changed",
                    advice=fix, cause=cause)
    shown = grouped([*many, other])
    assert [p.subject for p in shown] == [
        "import pandas.mod0 and 95 more modules (pandas.mod1, pandas.mod2, pandas.mod3, ...)",
        "import lightgbm"]
