"""project: where a project's files live."""

from __future__ import annotations

from pathlib import Path

from tests.support import write_project

from wheelferry import project
from wheelferry.config import load_options


def test_each_input_is_locked_beside_it_and_state_stays_in_the_project(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"base.in": "six\n", "extra.in": "-c base.txt\n"},
                         **{"ca-bundle": "none"})
    options = load_options(root)
    assert project.lock_path(root / "requirements.in") == root / "requirements.txt"
    assert [e.lock for e in project.lock_entries(options)] == [
        root / "requirements" / "base.txt", root / "requirements" / "extra.txt"]
    assert project.state_dir(options) == root / ".wheelferry"
    assert project.init_script_path(options) == root / "init.sh"
    assert project.build_lock_path(options) is None
    assert project.lock_files(options) == [e.lock for e in project.lock_entries(options)]
