"""Helpers shared by the tests, and the only place for them: the target, fixture projects, and
the real CLI run on them."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from wheelferry.config import load_options
from wheelferry.engine import Engine
from wheelferry.target import ensure_toolchain as ensure_target_toolchain

TARGET_PYTHON = "3.10"
TARGET_IMAGE = f"python:{TARGET_PYTHON}"
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


def write_project(path: Path, requirements: dict[str, str], **settings: Any) -> Path:
    """A project folder: pyproject.toml with [tool.wheelferry] and requirements/*.in."""
    (path / "requirements").mkdir(parents=True, exist_ok=True)
    for name, text in requirements.items():
        (path / "requirements" / name).write_text(textwrap.dedent(text).lstrip())
    table: dict[str, Any] = {"python": TARGET_PYTHON, "image": TARGET_IMAGE,
             "requirements": [f"requirements/{name}" for name in requirements]}
    table.update(settings)
    overrides: dict[str, dict[str, Any]] = table.pop("overrides", {})
    lines = ["[tool.wheelferry]"]
    lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
    for name, body in overrides.items():
        lines.append(f"\n[tool.wheelferry.overrides.{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in body.items()]
    (path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(value)


def host_ca_bundle() -> str | None:
    cafile = ssl.get_default_verify_paths().cafile
    return cafile if cafile and Path(cafile).is_file() else None


def ensure_toolchain(engine: Engine, scratch: Path) -> None:
    """The toolchain image (the target plus pip-tools) is made from the public index, where
    pip-tools lives; fixture projects then lock and build against the local index alone."""
    options = load_options(write_project(scratch / "project", {"base.in": "six\n"}))
    base = engine.ensure_image(options.image)
    ensure_target_toolchain(engine, options, base, lambda line: None)
