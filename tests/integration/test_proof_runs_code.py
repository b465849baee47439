"""A proof that runs code, not only imports, on real wheels from the local index in a real engine:
every shipped .py is byte-compiled for the target Python (Python 2 syntax in a package's own
modules fails verify naming the files, in its tests folder it only warns), and the project's
smoke-test runs after init.sh, network off, as the platform's user: its failure fails verify with
its output and the bound to add, and applying that bound makes verify pass."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.support import built_project, wheelferry

from wheelferry.engine.client import Engine

pytestmark = pytest.mark.engine

VERIFY_EXIT = 6
SMOKE = 'import wferryfx_oldcall\nprint("flags:", wferryfx_oldcall.flags([0, 1]))\n'


def verify(project: Path) -> subprocess.CompletedProcess[str]:
    done = wheelferry("verify", "--verbose", project=project)
    assert "Traceback (most recent call last)" not in done.stdout
    return done


def rebuild(project: Path, requirements: str) -> None:
    """Apply advice to the requirements file: build locks again from it and rebuilds."""
    (project / "requirements" / "base.in").write_text(requirements)
    done = wheelferry("build", project=project)
    assert done.returncode == 0, done.stderr


def set_smoke_test(project: Path, value: str) -> None:
    pyproject = project / "pyproject.toml"
    lines = [line for line in pyproject.read_text().splitlines()
             if not line.startswith("smoke-test = ")]
    lines.insert(lines.index("[tool.wheelferry]") + 1, f"smoke-test = {value}")
    pyproject.write_text("\n".join(lines) + "\n")


def test_python_2_syntax_fails_verify_naming_the_file_and_in_a_tests_folder_only_warns(
        tmp_path: Path, local_index: str, engine: Engine) -> None:
    project = built_project(tmp_path, local_index, "wferryfx-py2==1.0\n")
    done = verify(project)
    err = done.stderr
    assert done.returncode == VERIFY_EXIT, err
    assert "1 problem(s) in the offline install proof" in err
    assert ("- wferryfx-py2 1.0: 1 of its modules do not compile for Python 3.10 (a syntax "
            "error: code for another Python):") in err
    assert ("wferryfx_py2/legacy.py, line 1: SyntaxError: Missing parentheses in call to "
            "'print'") in err
    assert ("fix: pin a release of wferryfx-py2 written for Python 3.10 in "
            "requirements/base.in, or leave wferryfx-py2 out") in err
    # The import alone passes: only compiling every file sees it.
    assert "$ import wferryfx_py2  (wferryfx-py2): ok" in err
    # Its tests folder's file: a warning, beside the failure.
    assert "do not compile for the target Python (they do not fail verify)" in err
    assert "wferryfx_py2/tests/legacy_usage.py, line 2: SyntaxError" in err
    assert "not proven" in wheelferry("status", project=project).stdout
    # Nothing was written into the install: compiled in memory.
    assert "__pycache__/legacy" not in err

    # The advice, applied: a release written for Python 3; the tests folder only warns.
    rebuild(project, "wferryfx-py2==1.1\n")
    done = verify(project)
    assert done.returncode == 0, done.stderr
    assert "problem(s)" not in done.stderr
    assert "wferryfx_py2/tests/legacy_usage.py, line 2: SyntaxError" in done.stderr
    assert "legacy.py, line 1" not in done.stderr
    assert "every shipped .py compiles" in done.stderr


def test_a_failing_smoke_test_fails_verify_with_its_output_and_the_bound_that_fixes_it(
        tmp_path: Path, local_index: str, engine: Engine) -> None:
    project = built_project(tmp_path, local_index, "wferryfx-oldcall\n")
    (project / "checks").mkdir()
    (project / "checks" / "smoke.py").write_text(SMOKE)
    set_smoke_test(project, '"checks/smoke.py"')
    done = verify(project)
    err = done.stderr
    assert done.returncode == VERIFY_EXIT, err
    # The imports pass; the first call fails, and its output says why.
    assert "$ import wferryfx_oldcall  (wferryfx-oldcall): ok" in err
    assert ("- smoke-test: failed (exit code 1) on the desktop start, network off, as the "
            "platform's user:") in err
    assert "AttributeError: module 'wferryfx_buildhelper' has no attribute 'bool'" in err
    assert "cause: wferryfx_buildhelper.bool is gone from the installed release" in err
    assert "add 'wferryfx-buildhelper<2' to requirements/base.in" in err
    assert "not proven" in wheelferry("status", project=project).stdout

    # The bound, applied: the release the code was written for; the smoke test passes.
    rebuild(project, "wferryfx-oldcall\nwferryfx-buildhelper<2\n")
    done = verify(project)
    assert done.returncode == 0, done.stderr
    assert "flags: [False, True]" in done.stderr
    assert "the smoke test passes" in done.stderr
    assert "not proven" not in wheelferry("status", project=project).stdout

    # Another smoke test (here a snippet in the setting itself) makes the old proof stale, and
    # passes in its turn.
    set_smoke_test(project, '"import wferryfx_oldcall; print(wferryfx_oldcall.flags([2]))"')
    assert "not proven" in wheelferry("status", project=project).stdout
    done = verify(project)
    assert done.returncode == 0, done.stderr
    assert "[True]" in done.stderr
    assert "not proven" not in wheelferry("status", project=project).stdout
