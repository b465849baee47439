"""incontainer/compile_locks.py: recognising an sdist whose setup.py imports what it does not
declare, from pip-compile's real output."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import wheelferry

SCRIPT = Path(wheelferry.__file__).parent / "incontainer" / "compile_locks.py"

PIP_COMPILE_OUTPUT = """\
        Getting requirements to build wheel did not run successfully.
        exit code: 1
        [17 lines of output]
            Traceback (most recent call last):
              File "<string>", line 4, in <module>
            ModuleNotFoundError: No module named 'numpy'
            [end of output]
    pip._internal.exceptions.FailedToPrepareCandidate: Failed to build 'pyradiomics' when \
getting requirements to build wheel
"""


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compile_locks", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_undeclared_build_import_names_the_sdist_module_and_distribution() -> None:
    found = script().undeclared_build_import(PIP_COMPILE_OUTPUT)
    assert found == ("pyradiomics", "numpy", "numpy")


def test_modules_published_under_another_name_map_to_their_distribution() -> None:
    output = PIP_COMPILE_OUTPUT.replace("'numpy'", "'sklearn.utils'")
    assert script().undeclared_build_import(output) == ("pyradiomics", "sklearn", "scikit-learn")
    output = PIP_COMPILE_OUTPUT.replace("'numpy'", "'wferryfx_buildhelper'")
    assert script().undeclared_build_import(output)[2] == "wferryfx-buildhelper"


def test_other_failures_are_not_taken_for_one() -> None:
    assert script().undeclared_build_import("ERROR: ResolutionImpossible") is None
    # A missing module with no sdist named: not a build-step failure of one package.
    assert script().undeclared_build_import(
        "ModuleNotFoundError: No module named 'numpy'") is None
