"""The flags that several commands share, each declared once with its help text and, for those
that override a `[tool.wheelferry]` setting, the setting's key. A task names the shared flags it
takes; its parameters, their help and their renaming into settings come from here."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wheelferry.core.report import Reporter
from wheelferry.project.config import load_options
from wheelferry.project.options import Options


@dataclass(frozen=True)
class SharedFlag:
    """One shared flag: its help, the setting it overrides (None: not a setting), and its
    default (False: a switch; None: it takes a value)."""

    help: str
    setting: str | None = None
    default: bool | None = None


SHARED_FLAGS: dict[str, SharedFlag] = {
    "project": SharedFlag("Project folder holding pyproject.toml with [tool.wheelferry] "
                          "(default: here)."),
    "python": SharedFlag("Target Python major.minor (overrides 'python').", setting="python"),
    "image": SharedFlag("Target container image (overrides 'image').", setting="image"),
    "wheelhouse": SharedFlag("Output folder (overrides 'wheelhouse').", setting="wheelhouse"),
    "engine": SharedFlag("Container engine: docker or podman (overrides 'engine').",
                         setting="engine"),
    "index_url": SharedFlag("Package index URL for pip in the container (overrides "
                            "'index-url').", setting="index-url"),
    "verbose": SharedFlag("Show every line that pip and the containers print.", default=False),
    "arch": SharedFlag("The platform's machine, x86_64 or aarch64 (overrides 'arch').",
                       setting="arch"),
    "resolver": SharedFlag("Who resolves the locks: uv or pip-compile (overrides 'resolver').",
                           setting="resolver"),
    "platform_image": SharedFlag("The platform's own image: read for what it provides, and "
                                 "proven in (overrides 'platform-image').",
                                 setting="platform-image"),
    "quiet": SharedFlag("Print errors and the final line only.", default=False),
    "json": SharedFlag("Print the result as one JSON document on standard output (messages "
                       "stay on standard error; an error is a JSON document too).",
                       default=False),
}


@dataclass(frozen=True)
class Given:
    """The shared flags one command was given (a flag it does not take is absent)."""

    values: Mapping[str, str | bool | None]

    @property
    def project(self) -> str | None:
        value = self.values.get("project")
        return value if isinstance(value, str) else None

    @property
    def project_dir(self) -> Path:
        return Path(self.project) if self.project else Path.cwd()

    @property
    def verbose(self) -> bool:
        return bool(self.values.get("verbose"))

    @property
    def quiet(self) -> bool:
        return bool(self.values.get("quiet"))

    @property
    def json(self) -> bool:
        return bool(self.values.get("json"))

    def settings(self) -> dict[str, Any]:
        """The settings the flags override, by their `[tool.wheelferry]` keys."""
        return {flag.setting: self.values[name] for name, flag in SHARED_FLAGS.items()
                if flag.setting is not None and name in self.values}

    def options(self) -> Options:
        """The project's configuration, the flags given winning over its file."""
        return load_options(self.project_dir, self.settings())

    def reporter(self) -> Reporter:
        return Reporter(verbose=self.verbose, quiet=self.quiet)


def help_for(names: tuple[str, ...], own: Mapping[str, str]) -> dict[str, str]:
    """A task's flag help: the shared flags' (unless the task words one its own way), then its
    own flags'."""
    return {**{name: SHARED_FLAGS[name].help for name in names}, **own}


def taking_shared_flags(names: tuple[str, ...]) -> Callable[[Callable[..., Any]], Any]:
    """A task body `(c, given, *own flags)` as a task function: its parameters are the body's
    own followed by the shared flags `names`, which the body receives together as `given`."""
    unknown = set(names) - set(SHARED_FLAGS)
    if unknown:  # pragma: no cover - a programming error, caught at import
        raise ValueError(f"no shared flag {sorted(unknown)}")

    def decorate(body: Callable[..., Any]) -> Callable[..., Any]:
        context, _given, *own = inspect.signature(body).parameters.values()

        @functools.wraps(body)
        def task_function(c: Any, *args: Any, **kwargs: Any) -> Any:
            given = Given({name: kwargs.pop(name, SHARED_FLAGS[name].default)
                           for name in names})
            return body(c, given, *args, **kwargs)

        shared = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    default=SHARED_FLAGS[name].default) for name in names]
        task_function.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [context, *own, *shared])
        return task_function

    return decorate
