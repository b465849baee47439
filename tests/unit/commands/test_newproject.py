"""`wheelferry init`'s core: the table and the input written, an existing pyproject.toml kept as
it was around the new table, and nothing overwritten (or written at all) when init refuses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wheelferry.commands.newproject import INPUT, start
from wheelferry.core.errors import ConfigError
from wheelferry.project.config import load_options
from wheelferry.project.pyprojectfile import read_table

OWN = """\
# The user's own project file.
[project]
name = "analysis"   # a trailing comment
version = "0.1"
dependencies = [
    "numpy",  # kept as written
]

[tool.ruff]
line-length = 90
"""


def test_an_empty_folder_gets_a_project_wheelferry_takes(tmp_path: Path) -> None:
    started = start(tmp_path, requirements=["wferryfx-pure", "attrs>=20"])
    assert started.created_pyproject
    assert (tmp_path / INPUT).read_text() == "wferryfx-pure\nattrs>=20\n"
    options = load_options(tmp_path)
    assert options.target.python == "3.10"
    assert options.target.image == "python:3.10"
    assert [p.relative_to(tmp_path).as_posix() for p in options.requirements] == [INPUT]


def test_an_existing_pyproject_keeps_every_byte_around_the_new_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(OWN)
    start(tmp_path, requirements=["six"], python="3.11", platform_image="registry/desk:1")
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(OWN)
    assert read_table(tmp_path / "pyproject.toml") == {
        "python": "3.11", "requirements": [INPUT], "platform-image": "registry/desk:1"}


def test_an_existing_table_is_refused_by_name_and_nothing_changes(tmp_path: Path) -> None:
    own = OWN + '\n[tool.wheelferry]\npython = "3.10"\n'
    (tmp_path / "pyproject.toml").write_text(own)
    with pytest.raises(ConfigError, match=r"pyproject.toml has a \[tool.wheelferry\] table"):
        start(tmp_path, requirements=["six"])
    assert (tmp_path / "pyproject.toml").read_text() == own
    assert not (tmp_path / "requirements").exists()


def test_an_existing_input_is_refused_by_name_and_nothing_changes(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    (tmp_path / INPUT).write_text("mine\n")
    with pytest.raises(ConfigError) as raised:
        start(tmp_path, requirements=["six"])
    assert str(tmp_path / INPUT) in raised.value.message
    assert (tmp_path / INPUT).read_text() == "mine\n"
    assert not (tmp_path / "pyproject.toml").exists()


def test_requirements_come_from_a_requirements_txt_without_its_hashes(tmp_path: Path) -> None:
    given = tmp_path / "requirements.txt"
    given.write_text("# pinned by hand\nnumpy==1.26.4 \\\n    --hash=sha256:" + "a" * 64
                     + "\npandas<3  # the old one\n")
    project = tmp_path / "project"
    project.mkdir()
    started = start(project, requirements=["six"], from_file=given)
    assert started.requirements == ("six", "numpy==1.26.4", "pandas<3")
    assert (project / INPUT).read_text() == "six\nnumpy==1.26.4\npandas<3\n"


@pytest.mark.parametrize("line", ["-e ./here", "git+https://example.org/x.git", "not valid!",
                                  "--index-url https://example.org"])
def test_what_is_no_requirement_by_name_is_refused_and_nothing_written(
        tmp_path: Path, line: str) -> None:
    with pytest.raises(ConfigError) as raised:
        start(tmp_path, requirements=[line])
    assert repr(line) in raised.value.message
    assert os.listdir(tmp_path) == []


def test_a_bad_value_is_named_and_nothing_is_left_behind(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(OWN)
    with pytest.raises(ConfigError, match="'python'"):
        start(tmp_path, requirements=["six"], python="three")
    assert (tmp_path / "pyproject.toml").read_text() == OWN
    assert not (tmp_path / INPUT).exists()


def test_an_index_on_the_loopback_gets_the_host_network(tmp_path: Path) -> None:
    started = start(tmp_path, requirements=["six"], index_url="http://127.0.0.1:8080/simple")
    assert started.network_host
    options = load_options(tmp_path)
    assert options.index.network == "host"
    assert options.index.index_url == "http://127.0.0.1:8080/simple"
    other = tmp_path / "other"
    other.mkdir()
    assert not start(other, index_url="https://pypi.example.org/simple").network_host
    assert load_options(other).index.network == "bridge"


def test_a_provided_freeze_file_is_kept_relative_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "platform.txt").write_text("numpy==1.26.4\n")
    start(tmp_path, requirements=["six"], provided="platform.txt")
    assert read_table(tmp_path / "pyproject.toml")["provided"] == "platform.txt"
    with pytest.raises(ConfigError, match="no such file"):
        start(tmp_path / "x", provided="missing.txt")


def test_malformed_toml_is_named(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        start(tmp_path, requirements=["six"])


@pytest.mark.parametrize("own", ['[tool.black]\nline-length = 88\n\n[project]\nname = "x"\n',
                                 '[project]\nname = "x"'])
def test_the_table_goes_after_everything_else_byte_for_byte(tmp_path: Path, own: str) -> None:
    (tmp_path / "pyproject.toml").write_text(own)
    start(tmp_path, requirements=["six"])
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(own)
    assert text[len(own):].lstrip("\n").startswith("[tool.wheelferry]\n")
    assert load_options(tmp_path).requirements == (tmp_path / INPUT,)


def test_a_tool_table_written_inline_is_named_and_nothing_written(tmp_path: Path) -> None:
    own = "tool = {ruff = {line-length = 90}}\n"
    (tmp_path / "pyproject.toml").write_text(own)
    with pytest.raises(ConfigError, match=r"cannot add a \[tool\.wheelferry\] table"):
        start(tmp_path, requirements=["six"])
    assert (tmp_path / "pyproject.toml").read_text() == own
    assert not (tmp_path / "requirements").exists()
