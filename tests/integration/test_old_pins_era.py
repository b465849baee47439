"""Old pins get the dependencies of their day (issue 17): a set that pins an old release, from a
blank project with the default settings, locks what it does not name as of that release's day,
says so, and works; naming the dependency takes today's release of it, as the message says."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support import index_project, wheelferry

from wheelferry.project.requirements import read_lock

pytestmark = pytest.mark.engine


def read_pins(lock: Path) -> dict[str, str]:
    return {str(pin.name): str(pin.version) for pin in read_lock(lock)}


@pytest.mark.parametrize("resolver", ["uv", "pip-compile"])
def test_an_old_pins_unnamed_dependency_is_locked_as_of_its_day(local_index: str, tmp_path: Path,
                                                                 resolver: str) -> None:
    """wferryfx-eraold 1.0 came out between wferryfx-buildtool 1.0 and 2.0 and imports what 2.0
    removed; today's resolution would take 2.0 and fail at its import."""
    project = index_project(tmp_path / "project", local_index, "wferryfx-eraold==1.0\n",
                            resolver=resolver)
    build = wheelferry("build", project=project)
    assert build.returncode == 0, build.stderr
    assert ("requirements/base.in pins old releases (the newest: wferryfx-eraold 1.0 "
            "(2023-10-15)), so what it does not name is locked as of 2023-10-15: "
            "wferryfx-buildtool 1.0. To take today's release of one of them, name it in "
            "requirements/base.in and build with --upgrade-package NAME.") \
        in " ".join(build.stderr.split())
    pins = read_pins(project / "requirements" / "base.txt")
    assert pins == {"wferryfx-eraold": "1.0", "wferryfx-buildtool": "1.0"}
    verify = wheelferry("verify", project=project)
    assert verify.returncode == 0, verify.stderr

    # The advice applied: named, it comes at today's release (and this old pin then breaks,
    # which verify names).
    (project / "requirements" / "base.in").write_text("wferryfx-eraold==1.0\nwferryfx-buildtool\n")
    named = wheelferry("build", "--upgrade-package", "wferryfx-buildtool", project=project)
    assert named.returncode == 0, named.stderr
    assert "locked as of" not in named.stderr
    assert read_pins(project / "requirements" / "base.txt")["wferryfx-buildtool"] == "2.0"
    broken = wheelferry("verify", project=project)
    assert broken.returncode != 0
    assert "wferryfx_eraold" in broken.stderr
    assert "generate_version_module" in broken.stderr
