"""The bad-input catalogue: each case ends with a non-zero exit code, a message that names the
input and says what to do, no traceback, and the previous wheelhouse and locks byte-identical."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.support import build_fails, built_project, copy_project

pytestmark = pytest.mark.engine

BASE = "wferryfx-needs-pure\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, local_index: str) -> Path:
    return built_project(tmp_path_factory.mktemp("bad-input"), local_index, BASE)


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    return copy_project(built, tmp_path)


def set_input(project: Path, text: str) -> None:
    (project / "requirements" / "base.in").write_text(text)


def test_unknown_package(project: Path) -> None:
    set_input(project, BASE + "wferryfx-no-such-package\n")
    build_fails(project, code=4, says=["requirements/base.in", "wferryfx-no-such-package",
                                       "Check the name"])


def test_version_that_does_not_exist(project: Path) -> None:
    set_input(project, BASE + "wferryfx-pure==9.9\n")
    build_fails(project, code=4, says=["wferryfx-pure==9.9"])


def test_conflicting_pins(project: Path) -> None:
    set_input(project, BASE + "wferryfx-buildhelper==1.0\nwferryfx-buildhelper>=2\n")
    build_fails(project, code=4, says=["conflict", "wferryfx-buildhelper"])


def test_syntax_error_in_input(project: Path) -> None:
    set_input(project, BASE + "wferryfx-pure ==== 1.0\n")
    build_fails(project, code=4, says=["requirements/base.in line 2", "wferryfx-pure ==== 1.0",
                                       "not a valid requirement"])


@pytest.mark.parametrize("line", [
    "-e ./src/mypkg",
    "git+https://example.invalid/repo.git#egg=mypkg",
    "mypkg @ https://example.invalid/mypkg-1.0.tar.gz",
    "./local/mypkg-1.0.tar.gz",
    "mypkg @ file:///tmp/mypkg-1.0.tar.gz",
], ids=["editable", "vcs", "url", "local-path", "file-url"])
def test_unlockable_requirements_are_refused(project: Path, line: str) -> None:
    set_input(project, BASE + line + "\n")
    build_fails(project, code=4, says=["requirements/base.in line 2", line,
                                       "publish the package to an index"])


def test_sdist_that_fails_to_compile(project: Path) -> None:
    set_input(project, BASE + "wferryfx-broken\n")
    err = build_fails(project, code=5, says=["wferryfx-broken==1.0", "building its wheel",
                                             "The end of its log"])
    assert "error:" in err  # the compiler's own message, from the tail of the log


def test_malformed_configuration(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "wheelhous = \"typo\"\n")
    build_fails(project, code=2, says=["'wheelhous'", str(pyproject), "not a wheelferry setting"])


def test_incomplete_configuration(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text("[project]\nname = \"x\"\n")
    build_fails(project, code=2, says=["no [tool.wheelferry] table", str(pyproject)])


def test_image_with_another_python(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('python = "3.10"', 'python = "3.11"'))
    build_fails(project, code=3, says=["python:3.10", "3.10.", "python is 3.11"])


def test_unreachable_engine(project: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": "unix:///tmp/wheelferry-no-engine.sock"}
    build_fails(project, code=3, says=["DOCKER_HOST=unix:///tmp/wheelferry-no-engine.sock",
                                       "daemon running"], env=env)


def test_image_that_cannot_be_pulled(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('image = "python:3.10"',
                                                       'image = "wheelferry-test/missing:1"'))
    build_fails(project, code=3, says=["wheelferry-test/missing:1", "pulling it failed",
                                       "docker load"])
