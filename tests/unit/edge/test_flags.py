"""flags: each shared flag is declared once, with one help text in every command that takes it,
and reaches the configuration under its setting's key."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from invoke.context import Context
from tests.support import write_project

from wheelferry.edge.flags import SHARED_FLAGS, Given, taking_shared_flags
from wheelferry.edge.tasks import namespace

# Commands that word a shared flag their own way: the vulnerability lookup's index.
OWN_WORDING = {("bundle", "index-url"), ("review", "index-url")}
# init starts a project: its python, platform-image, index-url and project are what it writes.
NOT_SHARED = {"init": {"project", "python", "platform-image", "index-url"}}


def test_a_shared_flag_has_the_same_help_in_every_command() -> None:
    seen: dict[str, set[str]] = {}
    for context in namespace.to_contexts():
        for argument in context.args.values():
            long_name = next(n for n in argument.names if len(n) > 1)
            name = long_name.replace("-", "_")
            if (name not in SHARED_FLAGS or (context.name, long_name) in OWN_WORDING
                    or long_name in NOT_SHARED.get(str(context.name), set())):
                continue
            assert argument.help == SHARED_FLAGS[name].help, (context.name, long_name)
            assert argument.default == SHARED_FLAGS[name].default, (context.name, long_name)
            seen.setdefault(name, set()).add(str(context.name))
    # Every declared flag is taken by some command, and the table flags by several.
    assert set(seen) == set(SHARED_FLAGS)
    assert {"lock", "build", "verify", "status"} <= seen["python"]


def test_flags_reach_the_configuration_under_their_setting_keys(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"base.in": "six\n"}, **{"ca-bundle": "none"})
    given = Given({"project": str(project), "python": "3.11", "image": None,
                   "index_url": "http://127.0.0.1:9/simple", "platform_image": "site/ws:1",
                   "resolver": "pip-compile", "arch": "aarch64", "engine": "podman",
                   "wheelhouse": "out", "verbose": True, "json": False})
    assert given.settings() == {"python": "3.11", "image": None,
                                "index-url": "http://127.0.0.1:9/simple",
                                "platform-image": "site/ws:1", "resolver": "pip-compile",
                                "arch": "aarch64", "engine": "podman", "wheelhouse": "out"}
    options = given.options()
    assert options.project_dir == project.resolve()
    assert (options.target.python, options.target.arch) == ("3.11", "aarch64")
    assert options.target.image == "python:3.10"  # not given: the file's
    assert options.index.index_url == "http://127.0.0.1:9/simple"
    assert options.platform.image == "site/ws:1"
    assert options.build.resolver == "pip-compile"
    assert options.engine == "podman"
    assert options.wheelhouse == project.resolve() / "out"
    assert given.verbose
    assert not given.quiet
    assert not given.json


def test_a_command_without_project_works_here(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Given({"quiet": True}).project_dir == tmp_path
    assert Given({"quiet": True}).settings() == {}


def test_the_body_gets_its_own_flags_and_the_shared_ones_together() -> None:
    calls: list[tuple[Given, dict[str, Any]]] = []

    def body(c: Context, given: Given, output: str | None = None) -> None:
        calls.append((given, {"output": output}))

    function = taking_shared_flags(("project", "quiet"))(body)
    assert list(inspect.signature(function).parameters) == ["c", "output", "project", "quiet"]
    function(Context(), output="o.sh", project="p")
    given, own = calls[0]
    assert own == {"output": "o.sh"}
    assert given.values == {"project": "p", "quiet": False}  # not given: the declared default
