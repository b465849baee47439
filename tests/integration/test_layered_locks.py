"""Several .in files the pip-tools way: dev.in constrains itself with base.txt, both are locked
for the target, and one wheelhouse holds the wheels of both locks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.support import WHEELFERRY, write_project

from wheelferry.project.requirements import read_lock

pytestmark = pytest.mark.engine


def test_a_later_input_is_constrained_by_an_earlier_lock(tmp_path: Path, local_index: str) -> None:
    project = write_project(
        tmp_path / "project",
        {"base.in": "wferryfx-buildhelper<2\nwferryfx-pure\n",
         "dev.in": "-c base.txt\nwferryfx-buildhelper\nwferryfx-needs-pure\n"},
        **{"index-url": local_index, "network": "host", "ca-bundle": "none"})
    run = subprocess.run([WHEELFERRY, "build", "--project", str(project)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    base = {str(p.name): str(p.version) for p in read_lock(project / "requirements" / "base.txt")}
    dev = {str(p.name): str(p.version) for p in read_lock(project / "requirements" / "dev.txt")}
    # dev.in alone would take buildhelper 2.0; the constraint from base.txt keeps it at 1.0.
    assert base["wferryfx-buildhelper"] == dev["wferryfx-buildhelper"] == "1.0"
    assert "wferryfx-tomlish" in dev  # markers evaluated for the 3.10 target
    wheels = sorted(p.name for p in (project / "wheelhouse").glob("*.whl"))
    assert [w.split("-")[0] for w in wheels] == [
        "wferryfx_buildhelper", "wferryfx_needs_pure", "wferryfx_pure", "wferryfx_tomlish"]
    # Changing base.in makes dev.txt stale too: both are re-resolved, then nothing is left to do.
    (project / "requirements" / "base.in").write_text("wferryfx-buildhelper\nwferryfx-pure\n")
    again = subprocess.run([WHEELFERRY, "lock", "--project", str(project)], capture_output=True,
                           text=True)
    assert again.returncode == 0, again.stderr
    assert "requirements/dev.txt will be re-resolved" in again.stderr
    # The pip-tools way: a re-resolved lock keeps the pins that still fit...
    dev = {str(p.name): str(p.version) for p in read_lock(project / "requirements" / "dev.txt")}
    assert dev["wferryfx-buildhelper"] == "1.0"
    # ...until an upgrade is asked for, which moves both layers together.
    upgrade = subprocess.run([WHEELFERRY, "lock", "--upgrade-package", "wferryfx-buildhelper",
                              "--project", str(project)], capture_output=True, text=True)
    assert upgrade.returncode == 0, upgrade.stderr
    base = {str(p.name): str(p.version) for p in read_lock(project / "requirements" / "base.txt")}
    dev = {str(p.name): str(p.version) for p in read_lock(project / "requirements" / "dev.txt")}
    assert base["wferryfx-buildhelper"] == dev["wferryfx-buildhelper"] == "2.0"
    third = subprocess.run([WHEELFERRY, "lock", "--project", str(project)], capture_output=True,
                           text=True)
    assert "requirements/base.txt is up to date" in third.stderr
    assert "requirements/dev.txt is up to date" in third.stderr
