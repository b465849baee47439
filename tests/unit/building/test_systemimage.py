"""The OS packages container's report (install_system_packages.py's result.json), parsed once:
what it installed, why it failed, none at all (the container died first), or a malformed one
(a BuildError, not a label made of whatever it held)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wheelferry.building.systemimage import Installed, read_outcome
from wheelferry.core.errors import BuildError


def test_what_was_installed_and_why_not(tmp_path: Path) -> None:
    report = tmp_path / "result.json"
    report.write_text(json.dumps({"ok": True, "manager": "apt-get",
                                  "installed": ["libgdal-dev=3.6.2", "auditwheel==6.1.0"]}))
    assert read_outcome(report) == Installed(ok=True, installed=("libgdal-dev=3.6.2",
                                                                 "auditwheel==6.1.0"))
    report.write_text(json.dumps({"ok": False, "manager": "apt-get",
                                  "why": "apt-get could not install nope"}))
    assert read_outcome(report) == Installed(why="apt-get could not install nope")


def test_no_report_is_a_failed_install(tmp_path: Path) -> None:
    assert read_outcome(tmp_path / "result.json") == Installed()


@pytest.mark.parametrize("data", [{"ok": "yes"}, {"ok": True, "installed": "gdal=3"},
                                  {"ok": True, "installed": [3]}, {"ok": False, "why": 2}])
def test_a_malformed_report_is_a_build_error(tmp_path: Path, data: dict[str, object]) -> None:
    report = tmp_path / "result.json"
    report.write_text(json.dumps(data))
    with pytest.raises(BuildError, match="the OS packages container's report is malformed"):
        read_outcome(report)
