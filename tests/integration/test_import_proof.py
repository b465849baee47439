"""The import proof never cries wolf and never passes falsely, on real wheels from the local index
in a real engine: what works on the platform passes with warnings that say why (a compiled GUI
backend without its system library, a module that needs an optional extra, a submodule broken
upstream); stubs, tests, data folders and plain shared libraries are not imported; namespace
packages are proven at their real packages; a crash names its own module; and what the wheelhouse
broke fails, naming the cause and the way out."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from tests.support import built_project, copy_project, set_index_url, wheelferry

from wheelferry.engine.client import Engine

pytestmark = pytest.mark.engine

VERIFY_EXIT = 6
WORKS = ("wferryfx-gui\nwferryfx-plainlib\nwferryfx-extras\nwferryfx-ns-good\nwferryfx-typed\n"
         "wferryfx-upstream\n")
BROKEN = ("wferryfx-crash\nwferryfx-ns-good\nwferryfx-ns-bad\nwferryfx-undefsym\n"
          "wferryfx-linked\nwferryfx-abidep\n")


def imported(output: str) -> set[str]:
    """The modules the proof's lines say it imported ("import M  (dist): verdict"), each shown
    after the run's elapsed time when not on a terminal ("  [4.2 s] $ import M ...")."""
    return set(re.findall(r"^  (?:\[[\d.]+ s\] )?[$ ] import (\S+)  \(", output,
                          flags=re.MULTILINE))


def verify(project: Path) -> subprocess.CompletedProcess[str]:
    done = wheelferry("verify", "--verbose", project=project)
    assert "Traceback" not in done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def works(tmp_path_factory: pytest.TempPathFactory, local_index: str, engine: Engine) -> Path:
    """Packages that work on the platform, each with something a naive proof cries wolf at."""
    return built_project(tmp_path_factory.mktemp("proof-works"), local_index, WORKS)


@pytest.fixture(scope="module")
def works_proof(works: Path) -> subprocess.CompletedProcess[str]:
    return verify(works)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, local_index: str, engine: Engine) -> Path:
    """A wheelhouse with what a proof must catch (and, beside it, what it must not blame)."""
    return built_project(tmp_path_factory.mktemp("proof-broken"), local_index, BROKEN)


@pytest.fixture(scope="module")
def broken_proof(broken: Path) -> subprocess.CompletedProcess[str]:
    return verify(broken)


def test_what_works_on_the_platform_passes_with_each_warning_and_its_reason(
        works: Path, works_proof: subprocess.CompletedProcess[str]) -> None:
    err = works_proof.stderr
    assert works_proof.returncode == 0, err
    assert "warning: 3 module(s) did not import, for reasons the wheelhouse cannot change" in err
    # A compiled GUI backend whose system library the image lacks.
    assert ("- import wferryfx_gui._backend: (wferryfx-gui) ImportError: libwferryfx-gui.so.1: "
            "cannot open shared object file") in err
    assert ("cause: it needs the system library libwferryfx-gui.so.1, which python:3.10 lacks "
            "and no shipped wheel carries") in err
    # A second top-level module that needs an extra, with the extra to add.
    assert "- import wferryfx_extrasd: (wferryfx-extras) ImportError:" in err
    assert ("cause: it needs wferryfx_serverlib, which wferryfx-extras requires only with its "
            "extra 'server' (not installed)") in err
    assert "fix: add 'wferryfx-extras[server]' to requirements/base.in if you use it" in err
    # A compiled submodule broken upstream: checked online, in the target image, as published.
    assert "the upstream check: 1 submodule(s) of wferryfx-upstream as published" in err
    assert "$ import wferryfx_upstream._accel  (wferryfx-upstream 1.0, published)" in err
    assert ("- import wferryfx_upstream._accel: (wferryfx-upstream) ImportError: "
            "wferryfx_upstream._accel: this accelerator is broken in release 1.0") in err
    assert ("cause: it fails the same way with wferryfx-upstream as published, installed online: "
            "broken upstream, not by the wheelhouse") in err
    assert "proven: the wheelhouse installs offline" in err
    assert "every shipped module imports but the 3 warned about" in err
    status = wheelferry("status", project=works)
    assert "not proven" not in status.stdout, status.stdout


def test_a_verdict_as_published_is_remembered_for_the_next_verify(
        works: Path, works_proof: subprocess.CompletedProcess[str]) -> None:
    assert works_proof.returncode == 0, works_proof.stderr
    again = verify(works)
    assert again.returncode == 0, again.stderr
    err = again.stderr
    # No second download and install of the release: the same verdict, from the user cache.
    assert "the upstream check: wferryfx-upstream as published, remembered" in err
    assert "(wferryfx-upstream 1.0, published)" not in err
    assert ("cause: it fails the same way with wferryfx-upstream as published, installed online: "
            "broken upstream, not by the wheelhouse") in err
    assert "every shipped module imports but the 3 warned about" in err


def test_stubs_tests_data_and_plain_libraries_are_not_imported(
        works_proof: subprocess.CompletedProcess[str]) -> None:
    err = works_proof.stderr
    assert "$ import wferryfx_typed  (wferryfx-typed): ok" in err
    assert "$ import wferryfx_plainlib  (wferryfx-plainlib): ok" in err
    assert "$ import wferryfx_gui  (wferryfx-gui): ok" in err
    # Exactly these, and no stub folder, .pyi-only package, tests package, data folder or
    # plain shared library (wferryfx_plainlib/libwferryfx_plain.so).
    assert imported(err) == {
        "wferryfx_extras", "wferryfx_extrasd", "wferryfx_gui", "wferryfx_gui._backend",
        "wferryfx_ns.good", "wferryfx_plainlib", "wferryfx_typed", "wferryfx_upstream",
        "wferryfx_upstream._accel"}


def test_a_namespace_package_is_proven_at_its_real_package(
        works_proof: subprocess.CompletedProcess[str],
        broken_proof: subprocess.CompletedProcess[str]) -> None:
    for err in (works_proof.stderr, broken_proof.stderr):
        assert "$ import wferryfx_ns.good  (wferryfx-ns-good): ok" in err
        assert "import wferryfx_ns  (" not in err
    # Its real package failing fails the proof, although `import wferryfx_ns` works.
    assert ("- import wferryfx_ns.bad: (wferryfx-ns-bad) ImportError: wferryfx_ns.bad is broken: "
            "its real package does not import") in broken_proof.stderr


def test_a_crash_names_its_own_module_and_the_others_keep_their_verdicts(
        broken_proof: subprocess.CompletedProcess[str]) -> None:
    err = broken_proof.stderr
    assert "$ import wferryfx_crash  (wferryfx-crash): ok" in err
    assert ("$ import wferryfx_crash_boom  (wferryfx-crash): did not import: the import crashed "
            "the interpreter (SIGSEGV)") in err
    assert ("$ import wferryfx_crash_late  (wferryfx-crash): did not import: ImportError: "
            "wferryfx_crash_late fails on its own") in err
    assert "$ import wferryfx_crash_zz  (wferryfx-crash): ok" in err
    assert ("- import wferryfx_crash_boom: (wferryfx-crash) the import crashed the interpreter "
            "(SIGSEGV)") in err
    assert "- import wferryfx_crash_late: (wferryfx-crash) ImportError:" in err


def test_a_broken_wheelhouse_fails_naming_each_cause_and_the_way_out(
        broken: Path, broken_proof: subprocess.CompletedProcess[str]) -> None:
    err = broken_proof.stderr
    assert broken_proof.returncode == VERIFY_EXIT, err
    assert "6 problem(s) in the offline install proof" in err
    # An extension that refers to a symbol nothing defines (a submodule: it counts anyway).
    assert "- import wferryfx_undefsym._native: (wferryfx-undefsym) ImportError:" in err
    assert "cause: its compiled code needs the symbol wferryfx_nowhere" in err
    # A library one of the shipped wheels carries, which the loader cannot find.
    assert ("- import wferryfx_linked._native: (wferryfx-linked) ImportError: "
            "libwferryfx_plain.so: cannot open shared object file") in err
    assert ("cause: it needs libwferryfx_plain.so, which wferryfx-plainlib's wheel carries, but "
            "the loader cannot find it") in err
    # A binary incompatibility (pandas built against numpy 1, beside numpy 2): the bound to add.
    assert ("- import wferryfx_abidep: (wferryfx-abidep) ImportError: wferryfx_buildhelper.dtype "
            "size changed, may indicate binary incompatibility") in err
    assert ("fix: add 'wferryfx-buildhelper<2' to requirements/base.in, or pick a release of "
            "wferryfx-abidep built for wferryfx-buildhelper 2") in err
    # No advice to build again where building again cannot help, nothing to warn about, and
    # nothing proven.
    assert "'wheelferry build' again" not in err
    assert "warning" not in err
    assert "the upstream check" not in err
    status = wheelferry("status", project=broken)
    assert "not proven" in status.stdout


def test_without_the_index_the_upstream_check_keeps_the_failure_and_says_why(
        works: Path, tmp_path: Path) -> None:
    project = copy_project(works, tmp_path)
    set_index_url(project, "http://127.0.0.1:9/simple/")  # nothing listens there
    done = verify(project)
    assert done.returncode == VERIFY_EXIT, done.stderr
    assert "1 problem(s) in the offline install proof" in done.stderr
    assert "- import wferryfx_upstream._accel: (wferryfx-upstream) ImportError:" in done.stderr
    assert "the upstream check could not reach the index" in done.stderr
    assert "fix: pin a release of wferryfx-upstream" in done.stderr
    assert "skip-imports" in done.stderr
    # The other two stay warnings.
    assert "warning: 2 module(s) did not import" in done.stderr


def test_skip_imports_takes_dotted_names(works: Path, tmp_path: Path) -> None:
    project = copy_project(works, tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        "[tool.wheelferry]\n", '[tool.wheelferry]\nskip-imports = ["wferryfx_upstream._accel", '
        '"wferryfx_gui._backend"]\n', 1))
    done = verify(project)
    assert done.returncode == 0, done.stderr
    assert "warning: 1 module(s) did not import" in done.stderr
    assert "$ import wferryfx_upstream  (wferryfx-upstream): ok" in done.stderr
    for skipped in ("wferryfx_upstream._accel", "wferryfx_gui._backend"):
        assert skipped not in done.stderr, skipped
    assert "the upstream check" not in done.stderr
