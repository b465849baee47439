"""Thin Invoke adapters: read the configuration and flags, call the core, map errors to exit codes.

The same collection serves `inv TASK` (a tasks.py that imports it) and the `wheelferry` console
script (cli.py).
"""

from __future__ import annotations

import functools
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import Task, task

from wheelferry import commands
from wheelferry.config import Options, load_options
from wheelferry.errors import ConfigError, Interrupted, WheelferryError, from_os_error
from wheelferry.report import Reporter, print_facts

F = TypeVar("F", bound=Callable[..., Any])

COMMON_HELP = {
    "project": "Project folder holding pyproject.toml with [tool.wheelferry] (default: here).",
    "python": "Target Python major.minor (overrides 'python').",
    "image": "Target container image (overrides 'image').",
    "wheelhouse": "Output folder (overrides 'wheelhouse').",
    "engine": "Container engine: docker or podman (overrides 'engine').",
    "index_url": "Package index URL for pip in the container (overrides 'index-url').",
    "verbose": "Show every line that pip and the containers print.",
    "arch": "The platform's machine, x86_64 or aarch64 (overrides 'arch').",
    "resolver": "Who resolves the locks: uv or pip-compile (overrides 'resolver').",
    "platform_image": "The platform's own image: read for what it provides, and proven in "
    "(overrides 'platform-image').",
}


# One meaning per short flag across every command; every other flag is long only.
SHORT_FLAGS = {"project": "p", "verbose": "v", "upgrade": "u", "jobs": "j", "output": "o"}


class WheelferryTask(Task[Any]):
    """A task whose short flags come from SHORT_FLAGS, not from invoke's first free letter
    (which made -p mean --upgrade-package in build and --project elsewhere)."""

    def arg_opts(self, name: str, default: str, taken_names: set[str]) -> dict[str, Any]:
        opts: dict[str, Any] = super().arg_opts(name, default, taken_names)
        short = SHORT_FLAGS.get(name)
        if short is not None:
            opts["names"].append(short)
        return opts


def wheelferry_task(**kwargs: Any) -> Callable[[F], Any]:
    """@task with wheelferry's short flags."""
    return task(klass=WheelferryTask, auto_shortflags=False, **kwargs)


def _help(*names: str, **extra: str) -> dict[str, str]:
    """Help for the common flags a task takes, plus its own."""
    return {**{name: COMMON_HELP[name] for name in names}, **extra}


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so every cleanup (containers, staging) runs.
    raise KeyboardInterrupt


def edge(func: F) -> F:
    """Run a task body; turn wheelferry errors and interruptions into a message and exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            return func(*args, **kwargs)
        except WheelferryError as error:
            print(error.render(), file=sys.stderr, flush=True)
            raise Exit(code=error.exit_code) from None
        except OSError as os_error:
            converted = from_os_error(os_error)
            print(converted.render(), file=sys.stderr, flush=True)
            raise Exit(code=converted.exit_code) from None
        except KeyboardInterrupt:
            stopped = Interrupted("stopped before the end; the previous locks and wheelhouse are "
                                "unchanged and no container was left running.")
            print(stopped.render(), file=sys.stderr, flush=True)
            raise Exit(code=stopped.exit_code) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper  # type: ignore[return-value]


def _options(project: str | None, **flags: Any) -> Options:
    keys = {"python": "python", "image": "image", "wheelhouse": "wheelhouse",
            "engine": "engine", "index_url": "index-url", "platform_image": "platform-image",
            "arch": "arch", "resolver": "resolver"}
    mapped = {keys[name]: value for name, value in flags.items() if name in keys}
    return load_options(Path(project) if project else Path.cwd(), mapped)


@wheelferry_task(help=_help("project", "python", "image", "engine", "index_url", "verbose",
                            "platform_image", "arch", "resolver",
                 upgrade="Re-resolve every lock, taking the newest allowed versions.",
                 upgrade_package="Re-resolve this package (repeatable)."),
      iterable=["upgrade_package"])
@edge
def lock(c: Context, upgrade: bool = False, upgrade_package: list[str] | None = None,
         project: str | None = None, python: str | None = None, image: str | None = None,
         engine: str | None = None, index_url: str | None = None,
         platform_image: str | None = None, arch: str | None = None,
         resolver: str | None = None, verbose: bool = False) -> None:
    """Compile requirements/X.in into X.txt with hashes, resolved for the target interpreter."""
    options = _options(project, python=python, image=image, engine=engine, index_url=index_url,
                       platform_image=platform_image, arch=arch, resolver=resolver)
    commands.lock(options, reporter=Reporter(verbose=verbose), upgrade=upgrade,
                  upgrade_packages=upgrade_package or [])


@wheelferry_task(help=_help(*COMMON_HELP,
                 upgrade="Re-resolve every lock before building.",
                 upgrade_package="Re-resolve this package before building (repeatable).",
                 jobs="Parallel sdist builds in the container (default: its CPU count)."),
      iterable=["upgrade_package"])
@edge
def build(c: Context, upgrade: bool = False, upgrade_package: list[str] | None = None,
          jobs: int = 0, project: str | None = None, python: str | None = None,
          image: str | None = None, wheelhouse: str | None = None, engine: str | None = None,
          index_url: str | None = None, platform_image: str | None = None, arch: str | None = None,
          resolver: str | None = None, verbose: bool = False) -> None:
    """Lock if stale, then build one wheel per pin in the target image into the wheelhouse."""
    if jobs < 0:
        raise ConfigError(f"--jobs must be 0 (the container's CPU count) or more, not {jobs}.")
    options = _options(project, python=python, image=image, wheelhouse=wheelhouse,
                       engine=engine, index_url=index_url, platform_image=platform_image, arch=arch,
                       resolver=resolver)
    commands.build(options, reporter=Reporter(verbose=verbose), upgrade=upgrade,
                   upgrade_packages=upgrade_package or [], jobs=jobs)


@wheelferry_task(help=_help("project", "python", "image", "wheelhouse", "engine", "verbose",
                            "platform_image", "arch",
                            static="Only the static checks (checksums, pins, tags); no container."))
@edge
def verify(c: Context, static: bool = False, project: str | None = None,
           python: str | None = None, image: str | None = None, wheelhouse: str | None = None,
           engine: str | None = None, platform_image: str | None = None, arch: str | None = None,
           verbose: bool = False) -> None:
    """Prove the wheelhouse: checksums and pins, then a desktop start with the generated init.sh
    (network off, as the platform's user), pip check and imports."""
    options = _options(project, python=python, image=image, wheelhouse=wheelhouse, engine=engine,
                       platform_image=platform_image, arch=arch)
    commands.verify(options, reporter=Reporter(verbose=verbose), static_only=static)


@wheelferry_task(name="init-script",
      help=_help("project", "wheelhouse", "verbose",
                 output="Where to write the script (default: init.sh in the project)."))
@edge
def init_script(c: Context, output: str | None = None, project: str | None = None,
                wheelhouse: str | None = None, verbose: bool = False) -> None:
    """Write init.sh: check the uploaded wheelhouse and install it offline on the platform."""
    options = _options(project, wheelhouse=wheelhouse)
    commands.init_script(options, reporter=Reporter(verbose=verbose),
                         output=Path(output) if output else None)


@wheelferry_task(help=_help("project", "wheelhouse", "verbose",
                 output="Where to write the bundle (default: wheelferry-bundle.sh in the "
                 "project).",
                 since="Make a delta over the wheelhouse on the platform: its SHA256SUMS file, "
                 "or 'last' for the one the last bundle of this project packed."))
@edge
def bundle(c: Context, output: str | None = None, since: str | None = None,
           project: str | None = None, wheelhouse: str | None = None,
           verbose: bool = False) -> None:
    """Write one self-checking installer file of the wheelhouse: upload it, run it once."""
    options = _options(project, wheelhouse=wheelhouse)
    path = commands.bundle(options, reporter=Reporter(verbose=verbose),
                           output=Path(output) if output else None, since=since)
    print(path, flush=True)


@wheelferry_task(help=_help("project", "python", "image", "wheelhouse", "platform_image", "arch"))
@edge
def status(c: Context, project: str | None = None, python: str | None = None,
           image: str | None = None, wheelhouse: str | None = None,
           platform_image: str | None = None, arch: str | None = None) -> None:
    """Where the project stands: target, locks fresh or stale, wheelhouse built and proven."""
    options = _options(project, python=python, image=image, wheelhouse=wheelhouse,
                       platform_image=platform_image, arch=arch)
    found = commands.status(options)
    print_facts(f"wheelferry status of {options.project_dir}", found.rows())


namespace = Collection(lock, build, verify, init_script, bundle, status)
