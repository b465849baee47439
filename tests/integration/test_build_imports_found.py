"""Real sdists with no hand-holding (issue 17), from blank projects with the default settings
(uv locks): what an sdist's build imports without declaring it is found when it is built, round
after round, recorded in the build lock and the manifest; a module that today's build tools
removed (pkg_resources) leads to the build tools of the sdist's day, at lock time and at build
time, never to a requirement named after the module; and when a module cannot be found, the
advice holds everything the build needs at once, and applying it works."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.support import build_fails, index_project, wheelferry

pytestmark = pytest.mark.engine

FOUND = "its build imports {module!r} without declaring it"


def manifest_of(project: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((project / "wheelhouse" / "wheelferry-manifest.json").read_text())
    return {record["name"]: record for record in manifest["wheels"]}


def test_undeclared_build_imports_are_found_when_building(local_index: str,
                                                          tmp_path: Path) -> None:
    """wferryfx-needsboth has static metadata: uv locks it without running its setup.py, which
    imports two modules it never declares. The build finds one, then the other, records both
    in the build lock, and builds it again from that lock, hash-checked."""
    project = index_project(tmp_path / "project", local_index, "wferryfx-needsboth\n")
    run = wheelferry("build", project=project)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert FOUND.format(module="wferryfx_buildhelper") in output
    assert FOUND.format(module="wferryfx_buildtool") in output
    build_lock = (project / "requirements" / "wheelferry-build.txt").read_text()
    assert ("# wheelferry-discovered: wferryfx-needsboth needs wferryfx-buildhelper "
            "wferryfx-buildtool") in build_lock
    assert "wferryfx-buildtool==2.0" in build_lock
    records = manifest_of(project)
    both = records["wferryfx-needsboth"]
    assert both["origin"] == "built"
    assert both["discovered_build_requires"] == ["wferryfx-buildhelper", "wferryfx-buildtool"]
    # As their dist-info names them; the helper at the version that ships beside it.
    locked_helper = f"wferryfx_buildhelper=={records['wferryfx-buildhelper']['version']}"
    assert locked_helper in both["build_requires"]
    assert "wferryfx_buildtool==2.0" in both["build_requires"]
    verify = wheelferry("verify", project=project)  # the manifest knows the new build lock
    assert verify.returncode == 0, verify.stderr

    again = wheelferry("build", project=project)
    assert again.returncode == 0, again.stderr
    assert "without declaring it" not in again.stdout + again.stderr
    assert "reused" in again.stdout + again.stderr


@pytest.mark.parametrize("resolver", ["uv", "pip-compile"])
def test_a_removed_module_leads_to_the_build_tools_of_its_day(local_index: str, tmp_path: Path,
                                                              resolver: str) -> None:
    """wferryfx-pkgres' setup.py imports pkg_resources, which today's setuptools removed: the
    lock and the build both retry with the setuptools of its release date (the index's 80.9.0),
    and nothing ever asks for a distribution named after the module. The retry keeps what it
    declares: wferryfx-buildhelper, released after it, at the version the lock pins."""
    project = index_project(tmp_path / "project", local_index,
                            "wferryfx-pkgres\nwferryfx-buildhelper==1.0\n", resolver=resolver)
    run = wheelferry("build", project=project)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert ("==> wferryfx-pkgres: preparing its metadata failed with today's build tools; "
            "retrying with those of its release date (2023-10-15): setuptools==80.9.0") in output
    assert ("==> wferryfx-pkgres: failed with today's build tools (its build imports "
            "'pkg_resources', which today's build tools no longer have); retrying with those "
            "of its release date (2023-10-15): setuptools==80.9.0") in output
    assert "pkg-resources" not in output
    assert 'build-requires = ["pkg_resources"]' not in output
    record = manifest_of(project)["wferryfx-pkgres"]
    assert "setuptools==80.9.0" in record["dated_build_requires"]
    assert "wferryfx-buildhelper==1.0" in record["dated_build_requires"]
    verify = wheelferry("verify", project=project)
    assert verify.returncode == 0, verify.stderr


def test_an_sdist_older_than_the_locked_major_gets_the_lock_below_it(local_index: str,
                                                                     tmp_path: Path) -> None:
    """wferryfx-oldabi builds only against wferryfx-buildhelper 1 (as old sdists' compiled code
    fails against numpy 2), and its metadata does not say so: uv locks the newest, 2.0. The
    retry with the build tools of its day fails against the locked 2.0 too, builds against 1.0
    of its day, and the build then locks again with wferryfx-buildhelper<2 and builds from that
    lock, with nothing configured. Verify's desktop start imports it against 1.0."""
    project = index_project(tmp_path / "project", local_index, "wferryfx-oldabi\n")
    run = wheelferry("build", project=project)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert ("The sdist of wferryfx-oldabi, older than the lock's wferryfx-buildhelper, builds "
            "only against wferryfx-buildhelper<2, with the build tools of its day") in output
    assert "Locking again with it." in output
    lock = (project / "requirements" / "base.txt").read_text()
    assert "wferryfx-buildhelper==1.0" in lock
    assert (project / "requirements" / "base.in").read_text() == "wferryfx-oldabi\n"
    records = manifest_of(project)
    assert records["wferryfx-buildhelper"]["version"] == "1.0"
    assert "wferryfx-buildhelper==1.0" in records["wferryfx-oldabi"]["dated_build_requires"]
    verify = wheelferry("verify", project=project)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    again = wheelferry("build", project=project)  # the lock holds: nothing is locked again
    assert again.returncode == 0, again.stderr
    assert "Locking again" not in again.stdout + again.stderr
    assert "reused" in again.stdout + again.stderr


def test_a_placeholder_whose_requirement_is_lost_is_named_broken_and_the_advice_works(
        local_index: str, tmp_path: Path) -> None:
    """wferryfx-hollow plays sklearn 0.0: the wheel built from it requires wferryfx-pure only in
    its description, where no installer reads it, and has no module of its own. The build says
    it is broken as published and what to require instead; done, it builds and verifies."""
    project = index_project(tmp_path / "project", local_index, "wferryfx-hollow\n")
    stderr = build_fails(project, code=5, says=[
        "wferryfx-hollow 1.0 is broken as published",
        "requires wferryfx-pure only in its description",
        "replace wferryfx-hollow with wferryfx-pure",
    ])
    assert "wferryfx-hollow" in stderr
    inputs = project / "requirements" / "base.in"
    inputs.write_text(inputs.read_text().replace("wferryfx-hollow", "wferryfx-pure"))
    run = wheelferry("build", project=project)
    assert run.returncode == 0, run.stderr
    assert set(manifest_of(project)) == {"wferryfx-pure"}
    verify = wheelferry("verify", project=project)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_pin_with_nothing_for_this_python_names_the_release_to_pin(local_index: str,
                                                                     tmp_path: Path) -> None:
    """wferryfx-oldpy 1.0 has one wheel, for cp39: the lock fails saying what that release has
    files for and which later one fits; pinned as advised, it builds."""
    project = index_project(tmp_path / "project", local_index, "wferryfx-oldpy==1.0\n")
    stderr = build_fails(project, code=4, says=[
        "no release matches 'wferryfx-oldpy==1.0'",
        "wferryfx-oldpy 1.0 has no file for this Python",
        "its wheels are for cp39 and it has no sdist; the first release with one is 2.0",
        "Pin 2.0 or a later release of it instead",
    ])
    assert "Traceback" not in stderr
    inputs = project / "requirements" / "base.in"
    inputs.write_text("wferryfx-oldpy==2.0\n")
    run = wheelferry("build", project=project)
    assert run.returncode == 0, run.stderr
    assert manifest_of(project)["wferryfx-oldpy"]["version"] == "2.0"


def test_the_advice_for_a_module_it_cannot_place_holds_everything_and_works(
        local_index: str, tmp_path: Path) -> None:
    """wferryfx-needsodd's setup.py imports wferryfx_buildhelper (found) and wferryfx_odd, which
    no distribution is named after. The failure names both attempts' causes and gives one
    override with what was found and a place for the missing one; filled in, it builds."""
    project = index_project(tmp_path / "project", local_index, "wferryfx-needsodd\n")
    stderr = build_fails(project, code=5, says=[
        "wferryfx-needsodd==1.0 failed while building its wheel",
        "needs the module 'wferryfx_odd'",
        "no distribution named 'wferryfx-odd' provides",
        "[tool.wheelferry.overrides.wferryfx-needsodd]",
        'build-requires = ["wferryfx-buildhelper", "DISTRIBUTION"]',
        "no-build-isolation = true",
        "attempt 1 (with today's build tools, in isolation): ModuleNotFoundError: No module "
        "named 'wferryfx_buildhelper'",
    ])
    snippet = stderr[stderr.index("[tool.wheelferry.overrides.wferryfx-needsodd]"):]
    snippet = "\n".join(snippet.splitlines()[:3]).replace("DISTRIBUTION", "wferryfx-oddname")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n" + snippet + "\n")
    run = wheelferry("build", project=project)
    assert run.returncode == 0, run.stderr
    record = manifest_of(project)["wferryfx-needsodd"]
    assert record["origin"] == "built"
    assert "wferryfx_oddname==1.0" in record["build_requires"]


def test_advice_for_a_configured_build_that_misses_a_removed_module_extends_it_and_works(
        local_index: str, tmp_path: Path) -> None:
    """A configured override is not second-guessed; when its build misses pkg_resources, the
    advice keeps what was configured and adds the build tools of its day; applied, it builds."""
    project = index_project(
        tmp_path / "project", local_index, "wferryfx-pkgres\n",
        overrides={"wferryfx-pkgres": {"build-requires": ["wferryfx-buildhelper"],
                                       "no-build-isolation": True}})
    stderr = build_fails(project, code=5, says=[
        "building wferryfx-pkgres needs the module 'pkg_resources', which today's build tools "
        "removed",
        'build-requires = ["wferryfx-buildhelper", "setuptools<81", "wheel"]',
    ])
    snippet = stderr[stderr.index("[tool.wheelferry.overrides.wferryfx-pkgres]"):]
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    configured = text[text.index("[tool.wheelferry.overrides.wferryfx-pkgres]"):]
    pyproject.write_text(text.replace(configured, "\n".join(snippet.splitlines()[:3]) + "\n"))
    run = wheelferry("build", project=project)
    assert run.returncode == 0, run.stderr
    record = manifest_of(project)["wferryfx-pkgres"]
    assert "setuptools==80.9.0" in record["build_requires"]


def test_what_a_built_wheel_requires_beyond_its_sdists_metadata_is_locked_too(
        local_index: str, tmp_path: Path) -> None:
    """uv trusts an sdist's static metadata; wferryfx-liar's says nothing of the wferryfx-pure
    that its setup.py (and so its wheel) requires. The build notices, locks again with it, and
    the wheelhouse is complete: verify proves it, and the next build changes nothing."""
    project = index_project(tmp_path / "project", local_index, "wferryfx-liar\n")
    run = wheelferry("build", project=project)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert ("wheel built from wferryfx-liar's sdist requires wferryfx-pure, which the lock "
            "does not pin") in output
    lock = (project / "requirements" / "base.txt").read_text()
    assert "wferryfx-pure==1.0" in lock
    assert "wferryfx-pure" not in (project / "requirements" / "base.in").read_text()
    assert set(manifest_of(project)) == {"wferryfx-liar", "wferryfx-pure"}
    verify = wheelferry("verify", project=project)
    assert verify.returncode == 0, verify.stderr
    again = wheelferry("build", project=project)
    assert again.returncode == 0, again.stderr
    assert "does not pin" not in again.stdout + again.stderr
    assert "requirements/base.txt is up to date" in again.stderr
