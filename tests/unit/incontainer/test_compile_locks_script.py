"""incontainer/compile_locks.py: recognising an sdist whose setup.py imports what it does not
declare, from pip-compile's real output."""

from __future__ import annotations

from types import ModuleType

from tests.support import incontainer_script

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
    return incontainer_script("compile_locks")


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


OLD_SDIST_OUTPUT = """\
        AttributeError: module 'wferryfx_buildtool' has no attribute 'generate_version_module'
        [end of output]
pip._internal.exceptions.FailedToPrepareCandidate: Failed to build 'wferryfx-oldmeta' when \
getting requirements to build wheel
"""


def test_an_sdist_that_failed_for_another_reason_is_named_for_the_dated_retry() -> None:
    module = script()
    assert module.undeclared_build_import(OLD_SDIST_OUTPUT) is None
    assert module.failed_sdist(OLD_SDIST_OUTPUT) == "wferryfx-oldmeta"
    assert module.failed_sdist("ERROR: ResolutionImpossible") is None
