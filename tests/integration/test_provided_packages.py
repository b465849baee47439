"""What the platform already provides, from a freeze file (users without the platform's image):
locks agree with it, builds leave it out and record it, conflicts are named with the way out."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name
from tests.support import LEGACY_OVERRIDE, WHEELFERRY, build_fails, write_project

from wheelferry.project.requirements import read_lock

pytestmark = pytest.mark.engine

FREEZE = "platform-freeze.txt"


def provided_project(tmp_path: Path, index_url: str, requirements: str, freeze: str,
                     **settings: Any) -> Path:
    project = write_project(tmp_path / "project", {"base.in": requirements},
                            **{"index-url": index_url, "network": "host", "ca-bundle": "none",
                               "provided": FREEZE, **settings})
    (project / FREEZE).write_text(freeze)
    return project


def run(*args: str, project: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([WHEELFERRY, *args, "--project", str(project)], capture_output=True,
                          text=True, check=False)
    assert "Traceback" not in done.stdout + done.stderr
    return done


def pins(project: Path) -> dict[str, str]:
    return {p.name: str(p.version) for p in read_lock(project / "requirements" / "base.txt")}


def manifest(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (project / "wheelhouse" / "wheelferry-manifest.json").read_text())
    return data


def test_provided_pins_are_locked_left_out_and_recorded(tmp_path: Path,
                                                        local_index: str) -> None:
    project = provided_project(tmp_path, local_index, "wferryfx-needs-pure\n",
                               "wferryfx-pure==1.0\nsomething-else==3.2\n")
    done = run("build", project=project)
    assert done.returncode == 0, done.stderr
    assert pins(project)["wferryfx-pure"] == "1.0"
    assert "provided=" in (project / "requirements" / "base.txt").read_text().splitlines()[0]
    data = manifest(project)
    assert data["provided"] == {"wferryfx-pure": "1.0"}
    assert data["provided_source"] == f"the freeze file {FREEZE}"
    shipped = {w["name"] for w in data["wheels"]}
    assert "wferryfx-pure" not in shipped
    assert "wferryfx-needs-pure" in shipped
    assert not list((project / "wheelhouse").glob("wferryfx_pure-*"))
    assert "provided by the platform" in done.stderr
    assert "wferryfx-pure" not in (project / "wheelhouse" / "wheelferry-requirements.txt"
                                   ).read_text()
    # Without the platform's image, the proof stands up the target image with the provided
    # package installed as root (as the platform has it): init.sh then finds it there.
    proof = run("verify", project=project)
    assert proof.returncode == 0, proof.stderr
    assert "stand-in of the platform" in proof.stderr
    assert "import wferryfx_needs_pure  (wferryfx-needs-pure): ok" in proof.stderr

    # A new platform (another freeze file) makes the lock stale, and says why.
    (project / FREEZE).write_text("wferryfx-pure==1.0\nsomething-else==3.3\n")
    again = run("lock", project=project)
    assert again.returncode == 0, again.stderr
    assert "what the platform provides changed" in again.stderr


def test_the_lock_takes_the_platforms_version(tmp_path: Path, local_index: str) -> None:
    project = provided_project(tmp_path, local_index, "wferryfx-buildhelper\n",
                               "wferryfx-buildhelper==1.0\n")
    done = run("lock", project=project)
    assert done.returncode == 0, done.stderr
    assert pins(project) == {"wferryfx-buildhelper": "1.0"}  # 2.0 without the platform


def test_a_requirement_that_would_replace_a_provided_package_is_named(
        tmp_path: Path, local_index: str) -> None:
    project = provided_project(tmp_path, local_index, "wferryfx-buildhelper>=2\n",
                               "wferryfx-buildhelper==1.0\n")
    build_fails(project, code=4, says=[
        "wferryfx-buildhelper>=2", "the platform provides wferryfx-buildhelper 1.0",
        'replace-provided = ["wferryfx-buildhelper"]', "The previous locks are unchanged"])


def test_replace_provided_ships_its_own_version(tmp_path: Path, local_index: str) -> None:
    project = provided_project(tmp_path, local_index, "wferryfx-buildhelper>=2\n",
                               "wferryfx-buildhelper==1.0\n",
                               **{"replace-provided": ["wferryfx-buildhelper"]})
    done = run("build", project=project)
    assert done.returncode == 0, done.stderr
    data = manifest(project)
    assert data["provided"] == {}
    assert [(w["name"], w["version"]) for w in data["wheels"]] == [
        ("wferryfx-buildhelper", "2.0")]


def test_a_legacy_sdist_is_built_against_the_platforms_version(tmp_path: Path,
                                                               local_index: str) -> None:
    project = provided_project(tmp_path, local_index, "wferryfx-legacy\nwferryfx-buildhelper\n",
                               "wferryfx-buildhelper==1.0\n", overrides=LEGACY_OVERRIDE)
    done = run("build", project=project)
    assert done.returncode == 0, done.stderr
    data = manifest(project)
    assert data["provided"] == {"wferryfx-buildhelper": "1.0"}
    legacy = next(w for w in data["wheels"] if w["name"] == "wferryfx-legacy")
    used = {canonicalize_name(line.split("==")[0]): line.split("==")[1]
            for line in legacy["build_requires"]}
    assert used[canonicalize_name("wferryfx-buildhelper")] == "1.0", legacy["build_requires"]


def test_a_provided_version_the_index_does_not_have_is_named(tmp_path: Path,
                                                             local_index: str) -> None:
    project = provided_project(tmp_path, local_index, "wferryfx-needs-pure\n",
                               "wferryfx-pure==0.5\n")
    build_fails(project, code=4, says=["the platform provides wferryfx-pure 0.5",
                                       "no such release", "replace-provided"])


def test_a_malformed_freeze_file_is_named(tmp_path: Path, local_index: str) -> None:
    project = provided_project(tmp_path, local_index, "wferryfx-pure\n",
                               "wferryfx-pure==1.0\nwferryfx-tomlish>=1\n")
    stderr = build_fails(project, code=2, says=[f"{FREEZE} line 2", "'wferryfx-tomlish>=1'",
                                               "pip list --format=freeze"])
    assert "configuration error" in stderr
