"""Each class of import failure the proof meets gets the verdict, cause and way out it should:
what the wheelhouse broke fails verify, what it cannot change is a warning, and a submodule
failure nothing explains waits for the upstream check."""

from __future__ import annotations

from typing import Any

import pytest

from wheelferry.proving.proof_facts import Facts, ImportFailure
from wheelferry.proving.verdicts import FAILURE, UPSTREAM, WARNING, judge

FACTS = Facts(
    environment={"numpy": "2.2.6", "pandas": "2.1.4", "wferryfx-buildhelper": "2.0",
                 "black": "24.1.0", "matplotlib": "3.9.0", "torchish": "1.0"},
    providers={"numpy": "numpy", "pandas": "pandas", "wferryfx_buildhelper":
               "wferryfx-buildhelper", "black": "black", "blackd": "black",
               "matplotlib": "matplotlib"},
    libraries={"libgfortran-040039e1.so.5.0.0": "numpy", "libwferryfx_plain.so":
               "wferryfx-plainlib"},
    extras={"black": (("aiohttp", "d"), ("uvloop", "uvloop")),
            "lonely": (("yaml-parser-x", "yaml"), ("PyYAML", "yaml"))},
    imported={"black": frozenset({"black", "blib2to3"}), "lonely": frozenset()},
    inputs={"pandas": "requirements/science.in"},
    default_input="requirements/base.in",
    built=frozenset({"builtpkg"}),
    image="python:3.10",
)


def failure(module: str, message: str, *, dist: str = "pkg", top: bool | None = None,
            kind: str = "ImportError", **more: Any) -> ImportFailure:
    return ImportFailure(distribution=dist, module=module,
                         top="." not in module if top is None else top, type=kind,
                         message=message, **more)


def test_an_undefined_symbol_fails_anywhere_and_says_what_was_built_against_what() -> None:
    verdict = judge(failure("pkg._native", "/x/_native.so: undefined symbol: wferryfx_nowhere"),
                    FACTS)
    assert (verdict.kind, verdict.severity) == ("undefined-symbol", FAILURE)
    assert "wferryfx_nowhere" in verdict.cause
    assert "pick a release of pkg built for the shipped versions" in verdict.advice
    assert "requirements/base.in" in verdict.advice
    assert "build" not in verdict.advice.replace("built", "")


def test_a_missing_glibc_version_fails_and_names_it() -> None:
    verdict = judge(failure("pkg._c", "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' "
                            "not found (required by /x/_c.so)"), FACTS)
    assert (verdict.kind, verdict.severity) == ("glibc", FAILURE)
    assert "GLIBC_2.38" in verdict.cause
    assert "python:3.10" in verdict.cause


def test_a_wrong_elf_class_fails() -> None:
    verdict = judge(failure("pkg._c", "/x/_c.so: wrong ELF class: ELFCLASS32"), FACTS)
    assert (verdict.kind, verdict.severity) == ("elf", FAILURE)
    assert "ELFCLASS32" in verdict.cause
    assert "architecture" in verdict.advice


@pytest.mark.parametrize("message", [
    "numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, "
    "got 88 from PyObject",
    "numpy.core.multiarray failed to import",
    "_ARRAY_API not found",
])
def test_numpy_compiled_against_numpy_1_says_which_bound_to_add(message: str) -> None:
    verdict = judge(failure("pandas", message, dist="pandas", output="A module that was compiled "
                            "using NumPy 1.x cannot be run in NumPy 2.2.6 as it may crash."),
                    FACTS)
    assert (verdict.kind, verdict.severity) == ("binary-incompatible", FAILURE)
    assert "another numpy than the installed numpy 2.2.6" in verdict.cause
    assert verdict.advice == ("add 'numpy<2' to requirements/science.in, or pick a release of "
                              "pandas built for numpy 2")


def test_a_binary_incompatibility_counts_in_a_submodule_too() -> None:
    verdict = judge(failure("pandas._libs.tslib", "numpy.dtype size changed, may indicate "
                            "binary incompatibility", dist="pandas"), FACTS)
    assert verdict.severity == FAILURE


def test_a_module_that_needs_a_newer_numpy_is_not_told_to_cap_it() -> None:
    facts = Facts(environment={"numpy": "1.26.4"}, providers={"numpy": "numpy"})
    verdict = judge(failure("pkg", "module compiled against API version 0x11 but this version "
                            "of numpy is 0x10"), facts)
    assert verdict.severity == FAILURE
    assert "<" not in verdict.advice
    assert verdict.advice.startswith("pick a release of pkg built for numpy 1.26.4")


def test_any_extension_type_size_change_names_its_own_dependency() -> None:
    verdict = judge(failure("wferryfx_abidep", "wferryfx_buildhelper.dtype size changed, may "
                            "indicate binary incompatibility. Expected ABI 1, got 2"), FACTS)
    assert verdict.kind == "binary-incompatible"
    assert verdict.advice.startswith("add 'wferryfx-buildhelper<2' to requirements/base.in, or "
                                     "pick a release of pkg built for wferryfx-buildhelper 2")


def test_a_package_built_here_is_also_told_how_to_build_it_against_the_shipped_numpy() -> None:
    verdict = judge(failure("builtpkg", "numpy.dtype size changed, may indicate binary "
                            "incompatibility", dist="builtpkg"), FACTS)
    assert "add 'numpy<2'" in verdict.advice
    assert "[tool.wheelferry.overrides.builtpkg] build-requires = ['numpy']" in verdict.advice


def test_a_library_a_shipped_wheel_carries_fails_the_proof() -> None:
    verdict = judge(failure("wferryfx_linked._native", "libwferryfx_plain.so: cannot open shared "
                            "object file: No such file or directory", dist="wferryfx-linked"),
                    FACTS)
    assert (verdict.kind, verdict.severity) == ("shipped-library", FAILURE)
    assert "wferryfx-plainlib's wheel carries" in verdict.cause


def test_a_library_its_own_wheel_bundles_says_the_wheel_is_broken() -> None:
    facts = Facts(libraries={"libpkg-0a1b2c3d.so.1": "pkg"})
    verdict = judge(failure("pkg._x", "libpkg-0a1b2c3d.so.1: cannot open shared object file: No "
                            "such file or directory"), facts)
    assert (verdict.kind, verdict.severity) == ("shipped-library", FAILURE)
    assert verdict.advice.startswith("pkg's wheel does not find the library it bundles")


def test_a_library_of_the_same_name_with_another_version_suffix_counts_as_shipped() -> None:
    verdict = judge(failure("scipyish._x", "libgfortran-040039e1.so.5: cannot open shared "
                            "object file: No such file or directory"), FACTS)
    assert verdict.severity == FAILURE


def test_a_bundled_library_name_counts_as_shipped_even_when_no_wheel_has_it() -> None:
    verdict = judge(failure("pkg._x", "libopenblas-r0-f650aae0.so.0.3.3: cannot open shared "
                            "object file: No such file or directory"), FACTS)
    assert (verdict.kind, verdict.severity) == ("shipped-library", FAILURE)
    assert "pkg's wheel is incomplete" in verdict.advice


def test_a_system_library_in_a_submodule_is_a_warning() -> None:
    verdict = judge(failure("matplotlib.backends._tkagg", "libtk8.6.so: cannot open shared "
                            "object file: No such file or directory", dist="matplotlib"), FACTS)
    assert (verdict.kind, verdict.severity) == ("system-library", WARNING)
    assert "the system library libtk8.6.so, which python:3.10 lacks" in verdict.cause
    assert "only this module is affected" in verdict.cause


def test_a_system_library_in_a_top_level_module_fails_with_the_ways_out() -> None:
    verdict = judge(failure("cv2", "libGL.so.1: cannot open shared object file: No such file "
                            "or directory", dist="opencv-python"), FACTS)
    assert (verdict.kind, verdict.severity) == ("system-library", FAILURE)
    assert "platform-image" in verdict.advice
    assert "-headless" in verdict.advice
    assert "skip-imports" in verdict.advice


def test_a_standard_module_the_python_lacks_is_a_system_matter() -> None:
    verdict = judge(failure("matplotlib.backends._backend_tk", "No module named '_tkinter'",
                            dist="matplotlib", kind="ModuleNotFoundError", missing="_tkinter",
                            stdlib=True), FACTS)
    assert (verdict.kind, verdict.severity) == ("system-library", WARNING)
    assert "the standard module _tkinter" in verdict.cause


def test_a_second_top_level_module_that_needs_an_extra_is_a_warning_naming_it() -> None:
    verdict = judge(failure("blackd", "aiohttp dependency is not installed", dist="black",
                            missing="aiohttp"), FACTS)
    assert (verdict.kind, verdict.severity) == ("extra", WARNING)
    assert "black requires only with its extra 'd'" in verdict.cause
    assert verdict.advice == "add 'black[d]' to requirements/base.in if you use it"


def test_an_extra_is_found_by_the_distribution_that_provides_the_module() -> None:
    verdict = judge(failure("lonely.loader", "No module named 'yaml'", dist="lonely",
                            kind="ModuleNotFoundError", missing="yaml"), FACTS)
    assert (verdict.kind, verdict.severity) == ("extra", WARNING)
    assert "'yaml'" in verdict.cause


def test_a_distributions_only_module_that_needs_an_extra_fails_and_names_the_extra() -> None:
    verdict = judge(failure("lonely", "No module named 'yaml'", dist="lonely",
                            kind="ModuleNotFoundError", missing="yaml"), FACTS)
    assert (verdict.kind, verdict.severity) == ("extra", FAILURE)
    assert verdict.advice == "add 'lonely[yaml]' to requirements/base.in"


def test_a_module_an_installed_distribution_provides_is_no_extra_matter() -> None:
    verdict = judge(failure("black.thing", "No module named 'numpy.missing'", dist="black",
                            kind="ModuleNotFoundError", missing="numpy.missing"), FACTS)
    assert (verdict.kind, verdict.severity) == ("other", UPSTREAM)


def test_an_undeclared_module_in_a_submodule_is_left_to_the_upstream_check() -> None:
    verdict = judge(failure("black.gtk", "No module named 'gi'", dist="black",
                            kind="ModuleNotFoundError", missing="gi"), FACTS)
    assert (verdict.kind, verdict.severity) == ("missing-module", UPSTREAM)
    assert "one of its extras may: d, uvloop" in verdict.cause


def test_an_undeclared_module_in_a_top_level_module_fails() -> None:
    verdict = judge(failure("pkg", "No module named 'gi'", kind="ModuleNotFoundError",
                            missing="gi"), FACTS)
    assert (verdict.kind, verdict.severity) == ("missing-module", FAILURE)
    assert verdict.advice == "add the distribution that provides 'gi' to requirements/base.in"


def test_a_crash_fails_a_top_level_module_and_waits_for_upstream_in_a_submodule() -> None:
    crash = "the import crashed the interpreter (SIGSEGV)"
    top = judge(failure("pkg_boom", crash, kind="crash"), FACTS)
    sub = judge(failure("pkg._boom", crash, kind="crash"), FACTS)
    assert (top.kind, top.severity, sub.severity) == ("crash", FAILURE, UPSTREAM)
    assert "skip-imports" in top.advice


def test_anything_else_fails_a_top_level_module_and_never_says_build_again() -> None:
    verdict = judge(failure("pkg", "pkg was built against ABI 1 but ABI 2 is installed"), FACTS)
    assert (verdict.kind, verdict.severity) == ("other", FAILURE)
    assert "wheelferry build" not in verdict.advice
    assert "skip-imports" in verdict.advice


def test_the_error_shows_the_module_name_and_type() -> None:
    assert failure("m", "boom", kind="ValueError").error == "ValueError: boom"
    assert failure("m", "the import crashed", kind="crash").error == "the import crashed"


# -- a failed smoke test: the bound that brings back what old code was written for ----------------


def test_what_numpy_2_removed_asks_for_numpy_1() -> None:
    from wheelferry.proving.proof_facts import Facts, ImportFailure
    from wheelferry.proving.verdicts import FAILURE, judge

    failure = ImportFailure(
        distribution="nibabel", module="nibabel", top=True, type="AttributeError",
        message="`np.sctypes` was removed in the NumPy 2.0 release. Access dtypes explicitly "
                "instead.")
    found = judge(failure, Facts(environment={"numpy": "2.2.6"},
                                 inputs={"numpy": "requirements.in"},
                                 default_input="requirements.in"))
    assert found.severity == FAILURE
    assert found.advice == "add 'numpy<2' to requirements.in"
    assert "np.sctypes" in found.cause


def test_a_removed_numpy_alias_on_import_asks_for_the_numpy_that_had_it() -> None:
    # cython_bbox 0.1.3 uses np.float at import; the proof reports the type apart from the
    # message, as an import's AttributeError comes.
    found = judge(failure("cython_bbox", "module 'numpy' has no attribute 'float'.",
                          dist="cython-bbox", kind="AttributeError"),
                  Facts(environment={"numpy": "1.26.4"}, inputs={"numpy": "requirements.in"},
                        default_input="requirements.in"))
    assert found.kind == "numpy-removed"
    assert found.advice == "add 'numpy<1.24' to requirements.in"
    assert "numpy 1.24 removed the alias np.float" in found.cause
    assert ("cython-bbox's published requirements allow numpy 1.26.4, which it was not written "
            "for") in found.cause


def test_a_name_numpy_removed_before_2_asks_for_the_numpy_that_had_it() -> None:
    # pyradiomics 2.2.0 and PyWavelets 0.5.2 import numpy.testing.Tester, gone in numpy 1.25.
    found = judge(failure("pywt", "cannot import name 'Tester' from 'numpy.testing' "
                          "(/x/numpy/testing/__init__.py)", dist="pywavelets"),
                  Facts(environment={"numpy": "1.26.4"}, inputs={"numpy": "requirements.in"},
                        default_input="requirements.in"))
    assert found.kind == "numpy-removed"
    assert found.advice == "add 'numpy<1.25' to requirements.in"
    assert "numpy 1.25 removed numpy.testing.Tester" in found.cause
    # A name numpy still has, or another library's, is not taken for it.
    other = judge(failure("pkg", "cannot import name 'thing' from 'numpy.testing'"), FACTS)
    assert other.kind != "numpy-removed"


def test_a_shim_of_a_compiled_part_its_build_left_out_only_warns() -> None:
    from wheelferry.proving.proof_facts import Facts, ImportFailure
    from wheelferry.proving.verdicts import WARNING, judge

    failure = ImportFailure(distribution="PyYAML", module="_yaml", top=True,
                            type="ModuleNotFoundError", message="No module named 'yaml._yaml'",
                            missing="yaml._yaml")
    found = judge(failure, Facts(providers={"yaml": "PyYAML", "_yaml": "PyYAML"},
                                 left_out={"pyyaml": ("the header yaml.h", "libyaml-dev")}))
    assert found.severity == WARNING
    assert "the header yaml.h" in found.cause
    assert 'system-packages = ["libyaml-dev"]' in found.advice


def test_a_left_out_top_level_shim_that_is_missing_itself_only_warns() -> None:
    from wheelferry.proving.proof_facts import Facts, ImportFailure
    from wheelferry.proving.verdicts import WARNING, judge

    failure = ImportFailure(distribution="pyyaml", module="_yaml", top=True,
                            type="ModuleNotFoundError", message="No module named '_yaml'")
    found = judge(failure, Facts(left_out={"pyyaml": ("the header yaml.h", "libyaml-dev")}))
    assert found.severity == WARNING
