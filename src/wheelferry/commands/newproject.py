"""`init`: a project started in one command. Writes the [tool.wheelferry] table (into an existing
pyproject.toml too, keeping its formatting and comments: tomlkit) and `requirements/base.in`, from
requirements given on the command line or read from a requirements.txt. Nothing that exists is
overwritten: an existing table or input file is refused, named."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

from wheelferry.core.errors import ConfigError
from wheelferry.core.files import replace_file
from wheelferry.project.config import load_options
from wheelferry.project.options import DEFAULT_PYTHON
from wheelferry.project.requirements import logical_lines

INPUT = "requirements/base.in"
_HASH_OPTION = re.compile(r"\s--hash[=\s]+\S+")
# What a requirements.txt line may not carry into an input: a path, URL, VCS or editable
# requirement (wheelferry refuses them while locking too).
_REFUSED = re.compile(r"^(?:-e|--editable)\b|://|^[./~]|@\s*file:")


@dataclass(frozen=True)
class Started:
    """What init wrote."""

    pyproject: Path
    created_pyproject: bool
    inputs: Path
    requirements: tuple[str, ...]
    network_host: bool


def _requirement(line: str, where: str) -> str:
    if _REFUSED.search(line) or line.startswith("-"):
        raise ConfigError(
            f"{where}: {line!r} is not a requirement by name (an option, a path, a URL or an "
            "editable requirement).",
            hint="Give requirements as an index has them, e.g. 'numpy>=1.26' (index settings "
            "are init's --index-url, or 'index-url' in [tool.wheelferry]).")
    try:
        Requirement(line)
    except InvalidRequirement as exc:
        raise ConfigError(f"{where}: {line!r} is not a valid requirement ({exc}).",
                          hint="Fix it, for example 'name==1.2.3'.") from exc
    return line


def read_requirements_file(path: Path) -> list[str]:
    """The requirement lines of a requirements.txt (comments and `--hash` options dropped: the
    lock makes its own hashes)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path} ({exc}).",
                          hint="Pass --from a readable requirements.txt.") from exc
    return [_requirement(_HASH_OPTION.sub("", f" {line}").strip(), f"{path} line {number}")
            for number, line in logical_lines(text)]


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def start(folder: Path, *, requirements: Sequence[str] = (), from_file: Path | None = None,
          python: str | None = None, platform_image: str | None = None,
          provided: str | None = None, index_url: str | None = None) -> Started:
    """Write [tool.wheelferry] into folder/pyproject.toml (made when missing) and
    folder/requirements/base.in. ConfigError, with nothing written, when either is there
    already or an input is not usable."""
    pyproject = folder / "pyproject.toml"
    inputs = folder / INPUT
    lines = [_requirement(line.strip(), "requirement") for line in requirements]
    if from_file is not None:
        lines += read_requirements_file(from_file)
    document = _read(pyproject)
    tool = document.get("tool")
    if tool is not None and "wheelferry" in tool:
        raise ConfigError(f"{pyproject} has a [tool.wheelferry] table already; init does not "
                          "overwrite it.", hint="Edit that table, or run 'wheelferry build'.")
    if inputs.exists():
        raise ConfigError(f"{inputs} exists already; init does not overwrite it.",
                          hint="Keep it and write the [tool.wheelferry] table by hand "
                          "(requirements = [\"requirements/base.in\"]), or move it away and "
                          "run init again.")
    if provided is not None and provided not in ("auto", "none"):
        if not (folder / provided).is_file() and not Path(provided).is_file():
            raise ConfigError(f"--provided {provided!r}: no such file.",
                              hint="Pass the output of 'python3 -m pip list --format=freeze' "
                              "run on the platform, or 'auto' or 'none'.")
        provided = _inside(folder, Path(provided))
    table = tomlkit.table()
    table.add("python", python or DEFAULT_PYTHON)
    table.add("requirements", [INPUT])
    network_host = False
    if index_url:
        table.add("index-url", index_url)
        if _is_loopback(index_url):
            # A container on the engine's bridge cannot reach the host's loopback.
            table.add("network", "host")
            network_host = True
    if platform_image:
        table.add("platform-image", platform_image)
    if provided:
        table.add("provided", provided)
    text = _with_table(document, table, pyproject)
    created = not pyproject.exists()
    previous = None if created else pyproject.read_bytes()
    inputs.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{line}\n" for line in lines) or (
        "# What you need on the platform, one requirement a line, e.g. numpy>=1.26\n")
    inputs.write_text(body, encoding="utf-8", newline="\n")
    try:
        replace_file(pyproject, text.encode("utf-8"))
        load_options(folder)  # what was written is a configuration wheelferry takes
    except BaseException:
        inputs.unlink(missing_ok=True)
        if previous is None:
            pyproject.unlink(missing_ok=True)
        else:
            replace_file(pyproject, previous)
        raise
    return Started(pyproject=pyproject, created_pyproject=created, inputs=inputs,
                   requirements=tuple(lines), network_host=network_host)


def _with_table(document: tomlkit.TOMLDocument, table: Table, pyproject: Path) -> str:
    """The file's text with [tool.wheelferry] added: after everything, the text before it byte
    for byte, where TOML allows a table there; else placed by tomlkit in the tool table."""
    own = tomlkit.dumps(document)
    alone = tomlkit.document()
    alone.add("tool", tomlkit.table(is_super_table=True))
    alone["tool"].add("wheelferry", table)
    appended = own + ("" if not own or own.endswith("\n") else "\n") + ("\n" if own else "")
    appended += tomlkit.dumps(alone)
    try:
        if tomlkit.parse(appended)["tool"]["wheelferry"] == table:
            return appended
    except (TOMLKitError, KeyError, TypeError):
        pass
    tool = document.get("tool")
    if tool is None:
        tool = tomlkit.table(is_super_table=True)
        document.add("tool", tool)
    try:
        tool.add("wheelferry", table)
    except (ValueError, TOMLKitError, AttributeError) as exc:
        raise ConfigError(f"{pyproject}: init cannot add a [tool.wheelferry] table beside the "
                          f"way 'tool' is written there ({exc}).",
                          hint="Write its tools as [tool.NAME] tables, or add [tool.wheelferry] "
                          "by hand.") from exc
    return tomlkit.dumps(document)


def _inside(folder: Path, path: Path) -> str:
    """A path as the table keeps it: relative to the project when inside it, POSIX."""
    absolute = path if path.is_absolute() else (folder / path if (folder / path).exists()
                                                else Path.cwd() / path)
    try:
        return absolute.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return absolute.resolve().as_posix()


def _read(pyproject: Path) -> tomlkit.TOMLDocument:
    if not pyproject.exists():
        return tomlkit.document()
    try:
        return tomlkit.parse(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}.") from exc
    except TOMLKitError as exc:
        raise ConfigError(f"{pyproject} is not valid TOML ({exc}).",
                          hint="Fix the syntax at that line and run init again.") from exc
