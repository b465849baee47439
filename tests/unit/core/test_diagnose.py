"""diagnose: pip's and pip-compile's output turned into a cause and a remedy, and the end of a
log made readable. Pure functions."""

from __future__ import annotations

import pytest
from tests.support import OLD_SDIST_LOG

from wheelferry.core.diagnose import diagnose

LEGACY_LOG = """\
$ /usr/local/bin/python -m pip wheel --no-deps -w /tmp/b /tmp/d/wferryfx-legacy-1.0.tar.gz
Processing /tmp/download/wferryfx-legacy-1.0.tar.gz
  Installing build dependencies: started
  Installing build dependencies: finished with status 'done'
  Getting requirements to build wheel: started
  Getting requirements to build wheel: finished with status 'error'
  error: subprocess-exited-with-error

  x Getting requirements to build wheel did not run successfully.
  | exit code: 1
  > [17 lines of output]
      Traceback (most recent call last):
        File "<string>", line 4, in <module>
        File "setup.py", line 4, in <module>
          import wferryfx_buildhelper
      ModuleNotFoundError: No module named 'wferryfx_buildhelper'
      [end of output]
"""


def test_diagnose_missing_module_in_a_build_names_the_override_to_add() -> None:
    found = diagnose(LEGACY_LOG, package="wferryfx-legacy")
    assert found is not None
    assert "wferryfx-legacy" in found.summary
    assert "wferryfx_buildhelper" in found.summary
    assert "[tool.wheelferry.overrides.wferryfx-legacy]" in found.hint
    assert 'build-requires = ["wferryfx-buildhelper"]' in found.hint
    assert "no-build-isolation = true" in found.hint


def test_diagnose_missing_module_while_locking_points_at_the_override() -> None:
    log = LEGACY_LOG.replace("Getting requirements to build wheel", "Preparing metadata "
                             "(setup.py)").replace("pip wheel", "pip-compile")
    log = log.replace("setup.py\", line 4", "<pip-setuptools-caller>\", line 4")
    log += "  python setup.py egg_info did not run successfully.\n"
    found = diagnose(log)
    assert found is not None
    assert "wferryfx_buildhelper" in found.summary
    assert "[tool.wheelferry.overrides.PACKAGE]" in found.hint
    assert 'build-requires = ["wferryfx-buildhelper"]' in found.hint


def test_diagnose_missing_module_while_locking_names_the_sdist_pip_names() -> None:
    log = (LEGACY_LOG + "Traceback (most recent call last):\n"
           "pip._internal.exceptions.FailedToPrepareCandidate: Failed to build "
           "'wferryfx-legacy' when getting requirements to build wheel\n")
    found = diagnose(log)
    assert found is not None
    assert "wferryfx-legacy" in found.summary
    assert "wferryfx_buildhelper" in found.summary
    assert "[tool.wheelferry.overrides.wferryfx-legacy]" in found.hint
    assert 'build-requires = ["wferryfx-buildhelper"]' in found.hint


@pytest.mark.parametrize(
    "log",
    [
        "WARNING: Retrying (Retry(total=4)) after connection broken by "
        "'NewConnectionError(': Failed to establish a new connection: [Errno -3] Temporary "
        "failure in name resolution')': /simple/wferryfx-pure/\n"
        "ERROR: Could not find a version that satisfies the requirement wferryfx-pure\n",
        "pip._vendor.urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='pypi.org', "
        "port=443): Read timed out.\n",
    ],
)
def test_diagnose_network_errors(log: str) -> None:
    found = diagnose(log, package="wferryfx-pure")
    assert found is not None
    assert "network error" in found.summary
    assert "nothing was changed" in found.hint


def test_diagnose_untrusted_certificate_points_at_the_ca_bundle() -> None:
    found = diagnose("SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] "
                     "certificate verify failed: self-signed certificate in certificate chain')\n")
    assert found is not None
    assert "certificate" in found.summary
    assert "ca-bundle" in found.hint


def test_diagnose_no_matching_distribution_names_the_requirement() -> None:
    log = ("ERROR: Could not find a version that satisfies the requirement "
           "wferryfx-nosuch==9.9 (from versions: none)\n"
           "ERROR: No matching distribution found for wferryfx-nosuch==9.9\n")
    found = diagnose(log)
    assert found is not None
    assert "wferryfx-nosuch==9.9" in found.summary
    assert "no release matches" in found.summary


def test_diagnose_conflicts() -> None:
    log = ("ERROR: Cannot install wferryfx-needs-pure==1.0 and wferryfx-pure==0.5 because these "
           "package versions have conflicting dependencies.\n\n"
           "The conflict is caused by:\n    The user requested wferryfx-pure==0.5\n"
           "    wferryfx-needs-pure 1.0 depends on wferryfx-pure>=1.0\n\n"
           "ERROR: ResolutionImpossible: for help visit "
           "https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency"
           "-conflicts\n")
    found = diagnose(log)
    assert found is not None
    assert "conflict" in found.summary


def test_diagnose_hash_mismatch() -> None:
    log = ("ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have "
           "updated the package versions, please update the hashes.\n")
    found = diagnose(log)
    assert found is not None
    assert "hash" in found.summary
    assert "--upgrade-package" in found.hint


def test_diagnose_says_nothing_about_an_unknown_failure() -> None:
    assert diagnose("gcc: fatal error: killed signal terminated program cc1\n",
                    package="wferryfx-cext") is None


def test_a_package_that_failed_to_build_is_named_with_what_to_try() -> None:
    found = diagnose(OLD_SDIST_LOG)
    assert found is not None
    assert found.summary.startswith("wferryfx-oldsdist could not be built")
    assert "build tools of its day" in found.hint
    assert "again" not in found.hint  # rebuilding the same way cannot help


@pytest.mark.parametrize("line", ["Failed to build 'wferryfx-oldbroken' when building wheels",
                                  "ERROR: Failed to build wferryfx-oldbroken",
                                  "Failed to build wferryfx-oldbroken"])
def test_the_failed_package_is_named_however_pip_quotes_it(line: str) -> None:
    found = diagnose(f"some output\n{line}\n")
    assert found is not None
    assert found.summary.startswith("wferryfx-oldbroken could not be built")


def test_attempts_are_told_apart_and_the_last_one_explains() -> None:
    from wheelferry.core.logtail import attempts_told_apart
    from wheelferry.incontainer.build_needs import ATTEMPT

    log = (f"{ATTEMPT}uv, in isolation\nFailed to build `toprammer==0.19`\n"
           "ModuleNotFoundError: No module named 'pkg_resources'\n"
           f"{ATTEMPT}pip-compile without build isolation, with the build tools of the release "
           "date of toprammer\nPython USB (PyUSB) support module not found.\n"
           "Failed to build 'toprammer' when getting requirements to build wheel\n")
    title, last, earlier = attempts_told_apart(log)
    assert "release date" in title
    assert "pkg_resources" not in last
    assert earlier == ["attempt 1 (uv, in isolation): ModuleNotFoundError: No module named "
                       "'pkg_resources'"]
    found = diagnose(last, tried_dated=True)
    assert found is not None
    assert found.summary == ("toprammer could not be built, even with the build tools of its "
                             "release date")
    assert "[tool.wheelferry.overrides.toprammer]" in found.hint
    assert "Pin a newer release of toprammer" in found.hint
    assert "build tools of its day" not in found.hint
    # The tools of its day that were tried go into the snippet: its build needs them too.
    announced = ("==> toprammer: preparing its metadata failed with today's build tools; "
                 "retrying with those of its release date (2022-12-30, tools no older than "
                 "Python 3.10's 2021-10-04): setuptools==65.6.3, wheel==0.38.4\n")
    found = diagnose(last, tried_dated=True, whole_log=announced + log)
    assert found is not None
    assert 'build-requires = ["DISTRIBUTION", "setuptools==65.6.3", "wheel==0.38.4"]' \
        in found.hint


def test_numpy_distutils_asks_for_numpy_1_where_it_ships() -> None:
    from wheelferry.core.diagnose import override_hint

    hint = override_hint("scikit-fmm", "numpy.distutils.core")
    assert "Add numpy<2 to your requirements file" in hint
    assert "build-requires" not in hint


def test_a_compilers_first_error_explains_and_an_sdists_own_header_is_no_os_package() -> None:
    from wheelferry.core.logtail import log_tail

    log = "\n".join(["gcc -c _pywt.c"] + [f"warning line {n}" for n in range(40)]
                    + ["_pywt.c:28859:5: error: lvalue required as increment operand",
                       "_pywt.c:30000:1: error: later noise"]
                    + [f"note {n}" for n in range(40)] + ["error: command 'gcc' failed"])
    assert "lvalue required as increment operand" in log_tail(log)
    own = ('radiomics/src/_cmatrices.c:6:10: fatal error: cmatrices.h: No such file or directory'
           '\n    6 | #include "cmatrices.h"\n')
    found = diagnose(own, package="pyradiomics")
    assert found is not None
    assert "pyradiomics's sdist is incomplete" in found.summary
    assert "system-packages" not in found.hint


def test_a_pin_with_nothing_for_this_python_names_the_release_to_pin() -> None:
    log = ("ERROR: No matching distribution found for SimpleITK==2.0.2\n"
           "==> simpleitk 2.0.2 has no file for this Python (3.10.13): its wheels are for cp38, "
           "cp39 and it has no sdist; the first release with one is 2.1.0\n")
    found = diagnose(log)
    assert found is not None
    assert found.summary == (
        "no release matches 'SimpleITK==2.0.2' on the configured index for this Python "
        "(simpleitk 2.0.2 has no file for this Python (3.10.13): its wheels are for cp38, cp39 "
        "and it has no sdist; the first release with one is 2.1.0)")
    assert found.hint == "Pin 2.1.0 or a later release of it instead, then run again."
    plain = diagnose("ERROR: No matching distribution found for nosuch==1.0\n")
    assert plain is not None
    assert "Check the name and version" in plain.hint
