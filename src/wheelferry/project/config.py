"""`[tool.wheelferry]` in pyproject.toml -> frozen, validated options (project/options.py).

Every key has a default; unknown keys, wrong types and bad values are ConfigErrors that name the
file and the key. Command-line flags arrive as a mapping of the same keys and win over the file.
Each group has its own parser (project/optiongroups.py); the project's own files are read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wheelferry.core.errors import ConfigError
from wheelferry.project.optiongroups import (
    Source,
    parse_build,
    parse_index,
    parse_install_dir,
    parse_platform,
    parse_proof,
    parse_skip_imports,
    parse_target,
)
from wheelferry.project.options import ENGINES, Options
from wheelferry.project.pyprojectfile import TABLE, find_pyproject, read_table

DEFAULT_REQUIREMENTS = ("requirements.in",)
DEFAULT_WHEELHOUSE = "wheelhouse"

# key -> (expected python types, description used in messages)
_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "python": ((str,), "a string such as \"3.10\""),
    "image": ((str,), "a string such as \"python:3.10\""),
    "requirements": ((list,), "a list of .in file paths"),
    "wheelhouse": ((str,), "a folder path"),
    "install-dir": ((str,), "a path on the platform such as \"~/persistent-home/my-tools\""),
    "engine": ((str,), "\"docker\" or \"podman\""),
    "index-url": ((str,), "a URL"),
    "extra-index-urls": ((list,), "a list of URLs"),
    "ca-bundle": ((str,), "\"auto\", \"none\" or a path to a PEM file"),
    "network": ((str,), "\"bridge\" or \"host\""),
    "resolver": ((str,), "\"uv\" or \"pip-compile\""),
    "arch": ((str,), "\"x86_64\" or \"aarch64\" (as `uname -m` says it on the platform)"),
    "skip-imports": ((list,), "a list of module names"),
    "system-packages": ((list,), "a list of OS package names installed for every build (e.g. "
                        "\"libpq-dev\")"),
    "platform-image": ((str,), "an image reference such as \"myplatform/workstation:1.4\""),
    "platform-user": ((str,), "a user as \"UID:GID\" or a name in the platform image"),
    "provided": ((str,), "\"auto\", \"none\" or the path of a `pip list --format=freeze` file "
                 "or of the platform's fingerprint (platform.json)"),
    "replace-provided": ((list,), "a list of package names"),
    "overrides": ((dict,), "a table of per-package tables"),
    "allowed-licenses": ((list,), "a list of licences (SPDX identifiers or classifier names)"),
    "smoke-test": ((str,), "Python code, or the path of a .py file in the project"),
}


def load_options(project_dir: Path, flags: Mapping[str, Any] | None = None) -> Options:
    """Read, merge (flags win) and validate the configuration of the project at `project_dir`."""
    project_dir = project_dir.resolve()
    pyproject = find_pyproject(project_dir)
    raw = dict(read_table(pyproject))
    for key, value in (flags or {}).items():
        if value is not None:
            raw[key] = value
    return parse_options(raw, project_dir=project_dir, pyproject=pyproject)


def parse_options(raw: Mapping[str, Any], *, project_dir: Path, pyproject: Path) -> Options:
    """Validate a raw table into Options. Pure apart from checking that named files exist."""
    source = Source(project_dir=project_dir, where=f"in [{TABLE}] of {pyproject}")
    _check_keys_and_types(raw, source)
    target = parse_target(raw, source)
    requirements = _requirements(raw, source)
    wheelhouse = _wheelhouse(raw, source, requirements=requirements)
    install_dir = parse_install_dir(raw, source)
    engine = source.choice(raw, "engine", ENGINES, "docker")
    index = parse_index(raw, source)
    skip_imports = parse_skip_imports(raw, source)
    build = parse_build(raw, source)
    return Options(
        project_dir=project_dir,
        pyproject=pyproject,
        requirements=requirements,
        wheelhouse=wheelhouse,
        engine=engine,
        target=target,
        index=index,
        build=build,
        platform=parse_platform(raw, source, install_dir=install_dir),
        proof=parse_proof(raw, source, skip_imports=skip_imports),
    )


def _check_keys_and_types(raw: Mapping[str, Any], source: Source) -> None:
    for key, value in raw.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise source.bad(key, "is not a wheelferry setting",
                             f"Remove it or fix its spelling. Known keys: {known}.")
        types, description = _KEYS[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise source.bad(key, f"must be {description}, not {value!r}")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise source.bad(key, f"must be {description}; every item must be a string, "
                             f"got {value!r}")


def _requirements(raw: Mapping[str, Any], source: Source) -> tuple[Path, ...]:
    project_dir = source.project_dir
    requirements = tuple(_project_file(project_dir, item, source)
                         for item in raw.get("requirements", list(DEFAULT_REQUIREMENTS)))
    if not requirements:
        raise source.bad("requirements", "is empty", "List at least one .in file.")
    for path in requirements:
        if path.suffix != ".in":
            raise source.bad("requirements", f"lists {path.name}, which is not a .in file",
                             "List pip-tools input files (X.in); wheelferry writes the lock "
                             "X.txt.")
        if not path.is_file():
            raise source.bad("requirements",
                             f"lists {path.relative_to(project_dir)}, which does not exist",
                             "Create it (one requirement per line) or fix the path.")
    if len(set(requirements)) != len(requirements):
        raise source.bad("requirements", "lists the same file twice")
    return requirements


def _project_file(project_dir: Path, item: str, source: Source) -> Path:
    path = (project_dir / item).resolve()
    if project_dir not in path.parents:
        raise ConfigError(
            f"key 'requirements' {source.where} lists {item!r}, which is outside the project "
            "folder.",
            hint="Keep requirement files inside the project.",
        )
    return path


def _wheelhouse(raw: Mapping[str, Any], source: Source, *,
                requirements: tuple[Path, ...]) -> Path:
    project_dir = source.project_dir
    wheelhouse_raw: str = raw.get("wheelhouse", DEFAULT_WHEELHOUSE)
    if not wheelhouse_raw.strip():
        raise source.bad("wheelhouse", "is empty")
    wheelhouse = source.project_file(wheelhouse_raw)
    if wheelhouse == project_dir or wheelhouse in project_dir.parents:
        raise source.bad("wheelhouse", f"is {wheelhouse}, which holds the project itself",
                         "Use a folder of its own, such as \"wheelhouse\"; wheelferry replaces "
                         "it whole.")
    if any(wheelhouse == r.parent or wheelhouse in r.parents for r in requirements):
        raise source.bad("wheelhouse", f"is {wheelhouse}, which holds the requirement files",
                         "Use a folder of its own; wheelferry replaces it whole.")
    return wheelhouse
