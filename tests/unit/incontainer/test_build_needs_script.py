"""incontainer/build_needs.py: what a failed build's log says (the modules it missed, removed
ones, and which package the resolver or pip named)."""

from __future__ import annotations

import pytest

from wheelferry.incontainer import build_needs

# uv 0.13's own words when an sdist's setup.py imports what it does not declare (captured).
UV_FAILURE = """\
error: Failed to build `badpkg==1.0`
  cause: The build backend returned an error
  cause: Call to `setuptools.build_meta:__legacy__.get_requires_for_build_wheel` failed
         [stderr]
           File "<string>", line 1, in <module>
         ModuleNotFoundError: No module named 'numpy'

hint: This error likely indicates that `badpkg@1.0` depends on `numpy`, but doesn't declare it
"""
# pip 26's: the package is quoted; its closing lines are generic.
PIP_FAILURE = """\
Collecting wferryfx-pure==1.0
ModuleNotFoundError: No module named 'pkg_resources'
pip._internal.exceptions.FailedToPrepareCandidate: Failed to build 'wferryfx-pkgres' when getting \
requirements to build wheel
ERROR: Failed to build installable wheels for some pyproject.toml based projects (x)
"""
PIP_WHEEL_FAILURE = """\
  Building wheel for wferryfx-legacy (setup.py) ... error
Failed to build wferryfx-legacy
ERROR: Failed to build one or more wheels
"""


def test_the_package_uv_names_is_taken_from_its_own_statement() -> None:
    assert build_needs.failing_package(UV_FAILURE) == "badpkg"


def test_the_package_pip_names_is_taken_not_its_generic_sentences() -> None:
    assert build_needs.failing_package(PIP_FAILURE) == "wferryfx-pkgres"
    assert build_needs.failing_package(PIP_WHEEL_FAILURE) == "wferryfx-legacy"


@pytest.mark.parametrize("generic", [
    "ERROR: Failed to build one or more wheels",
    "ERROR: Failed to build installable wheels for some pyproject.toml based projects",
    "error: the file could not be built",
])
def test_generic_lines_name_no_package(generic: str) -> None:
    assert build_needs.failing_package(generic) is None


@pytest.mark.parametrize(("module", "removed"), [
    ("pkg_resources", True), ("pkg_resources.extern", True), ("numpy.distutils", True),
    ("numpy.distutils.core", True), ("setuptools.command.test", True), ("numpy", False),
    ("Cython", False), ("pkg_resources_helper", False), ("setuptools", False),
])
def test_modules_that_build_tools_removed_are_told_apart(module: str, removed: bool) -> None:
    assert build_needs.removed_module(module) is removed


def test_a_module_maps_to_the_distribution_that_provides_it() -> None:
    assert build_needs.distribution_of("numpy.core") == "numpy"
    # A removed module is looked for in an older release of the distribution that had it.
    assert build_needs.removed_from("numpy.distutils.core") == "numpy"
    assert build_needs.removed_from("pkg_resources") == "setuptools"
    assert build_needs.removed_from("setuptools.command.test") == "setuptools"
    assert build_needs.removed_from("Cython.Distutils.old_build_ext") == "cython"
    assert build_needs.removed_from("yaml") is None
    assert build_needs.requirement_name("oldest-supported-numpy") == "numpy"
    assert build_needs.requirement_name("Cython>=0.29; python_version>'3'") == "cython"
    assert build_needs.requirement_name("not a requirement ===") == ""
    assert build_needs.distribution_of("Cython.Build") == "cython"
    assert build_needs.distribution_of("wferryfx_buildhelper") == "wferryfx-buildhelper"


def test_missing_modules_keep_their_dotted_names_in_order() -> None:
    log = ("ModuleNotFoundError: No module named 'Cython'\n"
           "ModuleNotFoundError: No module named 'numpy.distutils'\n")
    assert build_needs.missing_modules(log) == ["Cython", "numpy.distutils"]


def test_a_log_is_split_into_its_attempts() -> None:
    log = (f"$ pip download\n{build_needs.ATTEMPT}with today's build tools, in isolation\n"
           "ModuleNotFoundError: No module named 'numpy'\n"
           f"{build_needs.ATTEMPT}with numpy importable, without build isolation\n"
           "AttributeError: old API\n")
    parts = build_needs.attempts(log)
    assert [title for title, _ in parts] == [
        "with today's build tools, in isolation",
        "with numpy importable, without build isolation"]
    assert "numpy" in parts[0][1]
    assert "numpy" not in parts[1][1]
    assert "AttributeError" in parts[1][1]
    assert build_needs.attempts("$ pip download\nERROR: no such file\n") == [
        ("fetching it", "$ pip download\nERROR: no such file\n")]


def test_the_package_pip_was_processing_is_named() -> None:
    assert build_needs.processing_package(
        "Collecting wferryfx-pure==1.0 (from -r base.in (line 1))\n"
        "  Processing ./dist/wferryfx_pkgres-1.0.tar.gz (from -r base.in (line 2))\n"
        "Traceback (most recent call last):\n") == "wferryfx-pkgres"
    assert build_needs.processing_package(
        "Collecting Wferryfx_Pure==1.0 (from -r base.in (line 1))\n") == "wferryfx-pure"
    assert build_needs.processing_package("nothing here") is None
    assert build_needs.failing_package(
        f"==> wferryfx-pkgres: {build_needs.METADATA_FAILED}\n") == "wferryfx-pkgres"
