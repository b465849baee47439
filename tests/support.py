"""Helpers shared by the tests, and the only place for them: the target, fixture projects, and
the real CLI run on them."""

from __future__ import annotations

import hashlib
import shutil
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from wheelferry.config import Options, load_options
from wheelferry.engine import Engine
from wheelferry.lock import fingerprint, header_line
from wheelferry.project import LockEntry, lock_path
from wheelferry.requirements import Pin
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


def project_options(folder: Path, requirements: dict[str, str], **settings: Any) -> Options:
    """The options of a project written in folder/project (no CA bundle unless one is set)."""
    settings.setdefault("ca-bundle", "none")
    return load_options(write_project(folder / "project", requirements, **settings))


def sha(text: str) -> str:
    """A stand-in sha256 (of `text`) for a file that does not exist."""
    return hashlib.sha256(text.encode()).hexdigest()


# A lock's body as pip-compile writes it: pins with hashes across continuation lines.
LOCK_BODY = f"""\
#
# This file is autogenerated by pip-compile with Python 3.10
# by the following command:
#
#    wheelferry lock
#
wferryfx-needs-pure==1.0 \\
    --hash=sha256:{sha("needs-pure")}
    # via -r requirements/base.in
wferryfx-pure==1.0 \\
    --hash=sha256:{sha("pure-sdist")} \\
    --hash=sha256:{sha("pure-wheel")}
    # via wferryfx-needs-pure
wferryfx-tomlish==1.0 ; python_version < "3.11" \\
    --hash=sha256:{sha("tomlish")}
    # via wferryfx-needs-pure
"""


def pin(name: str, version: str, hashes: set[str], lock: Path) -> Pin:
    """A Pin as read_lock makes it from the line `name==version`."""
    return Pin(canonicalize_name(name), Version(version), frozenset(hashes),
               f"{name}=={version}", lock)


def write_fresh_lock(options: Options, name: str, body: str = LOCK_BODY) -> Path:
    """The lock of requirements/`name` as `wheelferry lock` leaves it: its header fingerprints
    the current inputs."""
    source = options.project_dir / "requirements" / name
    entry = LockEntry(source, lock_path(source))
    entry.lock.write_text(header_line(options, fingerprint(options, entry, {})) + body)
    return entry.lock


def host_ca_bundle() -> str | None:
    cafile = ssl.get_default_verify_paths().cafile
    return cafile if cafile and Path(cafile).is_file() else None


def ensure_toolchain(engine: Engine, scratch: Path) -> None:
    """The toolchain image (the target plus pip-tools) is made from the public index, where
    pip-tools lives; fixture projects then lock and build against the local index alone."""
    options = load_options(write_project(scratch / "project", {"base.in": "six\n"}))
    base = engine.ensure_image(options.image)
    ensure_target_toolchain(engine, options, base, lambda line: None)
