"""The [tool.wheelferry] table of a project's pyproject.toml: found (no upward search: explicit
is kinder) and read, with a missing file, malformed TOML or a missing table named."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from wheelferry.core.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 hosts
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

TABLE = "tool.wheelferry"


def find_pyproject(start: Path) -> Path:
    """The pyproject.toml of the project folder `start` (no upward search: explicit is kinder)."""
    candidate = start / "pyproject.toml"
    if not candidate.is_file():
        raise ConfigError(
            f"no pyproject.toml in {start}.",
            hint="Run wheelferry in a project folder whose pyproject.toml has a "
            "[tool.wheelferry] table, or pass --project DIR. To start one here: "
            "wheelferry init REQUIREMENT... (or --from requirements.txt).",
        )
    return candidate


def read_table(pyproject: Path) -> dict[str, Any]:
    """The raw [tool.wheelferry] table; ConfigError when the file or the table is unusable."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{pyproject} is not valid TOML ({exc}).",
            hint="Fix the syntax at that line and run again.",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}.") from exc
    table = data.get("tool", {}).get("wheelferry") if isinstance(data.get("tool"), dict) else None
    if table is None:
        raise ConfigError(
            f"{pyproject} has no [{TABLE}] table.",
            hint='Add one, for example:\n[tool.wheelferry]\npython = "3.10"\n'
            'requirements = ["requirements.in"]\n(or let wheelferry init REQUIREMENT... add it, '
            'with requirements/base.in)',
        )
    if not isinstance(table, dict):
        raise ConfigError(f"[{TABLE}] in {pyproject} must be a table.")
    return table
