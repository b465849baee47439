"""Helpers shared by the integration tests that drive the real CLI on fixture projects."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import write_project

WHEELFERRY = str(Path(sys.executable).parent / "wheelferry")
LEGACY_OVERRIDE = {"wferryfx-legacy": {"build-requires": ["wferryfx-buildhelper"],
                                       "no-build-isolation": True}}


def built_project(folder: Path, index_url: str, requirements: str,
                  **settings: Any) -> Path:
    """A project on the local index, built once by the real CLI."""
    project = write_project(folder / "project", {"base.in": requirements},
                            **{"index-url": index_url, "network": "host", "ca-bundle": "none",
                               **settings})
    subprocess.run([WHEELFERRY, "build", "--project", str(project)], check=True,
                   capture_output=True)
    return project


def copy_project(built: Path, folder: Path) -> Path:
    copy = folder / "project"
    shutil.copytree(built, copy)
    return copy


def build_fails(project: Path, *, code: int, says: list[str],
                env: dict[str, str] | None = None) -> str:
    """Run build; check exit code, message, no traceback, nothing changed. Returns stderr."""
    before = snapshot(project)
    run = subprocess.run([WHEELFERRY, "build", "--project", str(project)], capture_output=True,
                         text=True, env=env)
    assert run.returncode == code, run.stderr
    for text in says:
        assert text in run.stderr, f"{text!r} not in:\n{run.stderr}"
    assert "Traceback" not in run.stderr + run.stdout
    assert snapshot(project) == before
    assert not [p for p in project.iterdir() if ".wheelferry-" in p.name]
    return run.stderr


def set_index_url(project: Path, url: str) -> None:
    """Point the project's pyproject.toml at another index."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    start = text.index('index-url = "') + len('index-url = "')
    pyproject.write_text(text.replace(text[start:text.index('"', start)], url))


def snapshot(project: Path) -> dict[str, bytes]:
    """Every file of the wheelhouse and of the locks, by relative path (the .in inputs are the
    user's and left out)."""
    return {str(p.relative_to(project)): p.read_bytes()
            for folder in ("wheelhouse", "requirements")
            for p in sorted((project / folder).rglob("*"))
            if p.is_file() and p.suffix != ".in"}
