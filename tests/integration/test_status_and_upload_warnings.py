"""`wheelferry status` and the warnings before an upload, on a real build and a real proof:
status answers without an engine; init-script warns when there is no wheelhouse, or when the
wheelhouse is not the one `verify` last proved."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from tests.support import built_project, wheelferry, write_project

pytestmark = pytest.mark.engine

NOT_PROVEN = "is not the one 'wheelferry verify' last proved"


def run(*args: str, project: Path, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    result = wheelferry(*args, "-p", str(project), env=env)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def status_lines(project: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    result = run("status", project=project, env=env)
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()[1:]]
    return dict(line.split(": ", 1) for line in lines)


def test_status_and_warnings_follow_build_verify_and_change(tmp_path: Path,
                                                            local_index: str) -> None:
    project = built_project(tmp_path, local_index, "wferryfx-pure\n")
    wheelhouse = str(project / "wheelhouse")
    # Without any engine at all: status reads the project's files only.
    no_engine = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"}
    shown = status_lines(project, env=no_engine)
    assert shown["requirements/base.txt"] == "fresh"
    assert shown[wheelhouse].startswith("1 wheel, ")
    assert shown["proof"] == "not proven: run 'wheelferry verify'"

    written = run("init-script", project=project)
    assert written.returncode == 0, written.stderr
    assert NOT_PROVEN in written.stderr
    assert (project / "init.sh").is_file()

    assert run("verify", project=project).returncode == 0
    assert status_lines(project)["proof"].startswith("proven (")
    quiet = run("init-script", project=project)
    assert quiet.returncode == 0, quiet.stderr
    assert "wheelferry: warning:" not in quiet.stderr

    (project / "requirements" / "base.in").write_text("wferryfx-pure\nwferryfx-cext\n")
    assert status_lines(project)["requirements/base.txt"] == (
        "stale: base.in or what it references changed")
    assert run("build", project=project).returncode == 0
    shown = status_lines(project)
    assert shown["requirements/base.txt"] == "fresh"
    assert shown[wheelhouse].startswith("2 wheels, ")
    assert shown["proof"] == "not proven: run 'wheelferry verify'"
    assert NOT_PROVEN in run("init-script", project=project).stderr


def test_init_script_without_a_wheelhouse_warns(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", {"base.in": "six\n"}, **{"ca-bundle": "none"})
    result = run("init-script", project=project)
    assert result.returncode == 0, result.stderr
    assert f"there is no wheelhouse at {project / 'wheelhouse'} yet" in result.stderr
    assert (project / "init.sh").is_file()
    assert "not built" in status_lines(project)[str(project / "wheelhouse")]
