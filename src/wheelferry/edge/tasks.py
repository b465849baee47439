"""Thin Invoke adapters: read the configuration and flags, call the core, map errors to exit codes.

The same collection serves `inv TASK` (a tasks.py that imports it) and the `wheelferry` console
script (cli.py).
"""

from __future__ import annotations

import functools
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import Task, task

from wheelferry.commands import caches, delivery, newproject
from wheelferry.commands import flows as commands
from wheelferry.core.errors import ConfigError, Interrupted, WheelferryError, from_os_error
from wheelferry.core.report import print_facts
from wheelferry.edge import jsonout, textout
from wheelferry.edge.flags import Given, help_for, taking_shared_flags

F = TypeVar("F", bound=Callable[..., Any])

# One meaning per short flag across every command; every other flag is long only.
SHORT_FLAGS = {"project": "p", "verbose": "v", "upgrade": "u", "jobs": "j", "output": "o",
               "quiet": "q"}


class WheelferryTask(Task[Any]):
    """A task whose short flags come from SHORT_FLAGS, not from invoke's first free letter
    (which made -p mean --upgrade-package in build and --project elsewhere)."""

    def arg_opts(self, name: str, default: str, taken_names: set[str]) -> dict[str, Any]:
        opts: dict[str, Any] = super().arg_opts(name, default, taken_names)
        short = SHORT_FLAGS.get(name)
        if short is not None:
            opts["names"].append(short)
        return opts


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so every cleanup (containers, staging) runs.
    raise KeyboardInterrupt


def edge(func: F) -> F:
    """Run a task body; turn wheelferry errors and interruptions into a message and exit code."""

    command = func.__name__.replace("_", "-")

    def fail(error: WheelferryError, as_json: bool) -> Exit:
        print(error.render(), file=sys.stderr, flush=True)
        if as_json:
            jsonout.emit(jsonout.error(command, error))
        return Exit(code=error.exit_code)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = signal.signal(signal.SIGTERM, _terminate)
        as_json = bool(kwargs.get("json"))
        try:
            return func(*args, **kwargs)
        except WheelferryError as error:
            raise fail(error, as_json) from None
        except OSError as os_error:
            raise fail(from_os_error(os_error), as_json) from None
        except KeyboardInterrupt:
            stopped = Interrupted("stopped before the end; the previous locks and wheelhouse are "
                                "unchanged and no container was left running.")
            raise fail(stopped, as_json) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper  # type: ignore[return-value]


def wheelferry_task(*shared: str, help: Mapping[str, str] | None = None,
                    **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """@task with wheelferry's short flags and its error handling (edge); the body takes
    `(c, given, *its own flags)`, `given` holding the shared flags named in `shared`."""

    def decorate(body: Callable[..., Any]) -> Any:
        function = edge(taking_shared_flags(shared)(body))
        return task(klass=WheelferryTask, auto_shortflags=False,
                    help=help_for(shared, help or {}), **kwargs)(function)

    return decorate


# The shared flags of the commands that run in the target's containers.
TARGET_FLAGS = ("project", "python", "image", "engine", "platform_image", "arch", "verbose",
                "quiet")


@wheelferry_task(*TARGET_FLAGS, "index_url", "resolver", iterable=["upgrade_package"], help={
    "upgrade": "Re-resolve every lock, taking the newest allowed versions.",
    "upgrade_package": "Re-resolve this package (repeatable)."})
def lock(c: Context, given: Given, upgrade: bool = False,
         upgrade_package: list[str] | None = None) -> None:
    """Compile requirements/X.in into X.txt with hashes, resolved for the target interpreter."""
    reporter = given.reporter()
    commands.lock(given.options(), reporter=reporter, upgrade=upgrade,
                  upgrade_packages=upgrade_package or [])
    reporter.finish()


@wheelferry_task(*TARGET_FLAGS, "index_url", "resolver", "wheelhouse", "json",
                 iterable=["upgrade_package"], help={
    "upgrade": "Re-resolve every lock before building.",
    "upgrade_package": "Re-resolve this package before building (repeatable).",
    "jobs": "Parallel sdist builds in the container (default: its CPU count)."})
def build(c: Context, given: Given, upgrade: bool = False,
          upgrade_package: list[str] | None = None, jobs: int = 0) -> None:
    """Lock if stale, then build one wheel per pin in the target image into the wheelhouse."""
    if jobs < 0:
        raise ConfigError(f"--jobs must be 0 (the container's CPU count) or more, not {jobs}.")
    options = given.options()
    reporter = given.reporter()
    built = commands.build(options, reporter=reporter, upgrade=upgrade,
                           upgrade_packages=upgrade_package or [], jobs=jobs)
    reporter.finish()
    if given.json:
        jsonout.emit(jsonout.build(str(options.wheelhouse), built.manifest, built.reused))


@wheelferry_task(*TARGET_FLAGS, "wheelhouse", "json", help={
    "static": "Only the static checks (checksums, pins, tags); no container."})
def verify(c: Context, given: Given, static: bool = False) -> None:
    """Prove the wheelhouse: checksums and pins, then a desktop start with the generated init.sh
    (network off, as the platform's user), pip check and imports."""
    options = given.options()
    reporter = given.reporter()
    verified = commands.verify(options, reporter=reporter, static_only=static)
    reporter.finish()
    if given.json:
        jsonout.emit(jsonout.verify(
            str(options.wheelhouse), wheels=verified.wheels, static_only=verified.static_only,
            image=verified.image, user=verified.user,
            platform_checked=verified.platform_checked, warnings=verified.warnings))


@wheelferry_task("project", "wheelhouse", "verbose", "quiet", name="init-script", help={
    "output": "Where to write the script (default: init.sh in the project)."})
def init_script(c: Context, given: Given, output: str | None = None) -> None:
    """Write init.sh: check the uploaded wheelhouse and install it offline on the platform."""
    reporter = given.reporter()
    delivery.init_script(given.options(), reporter=reporter,
                         output=Path(output) if output else None)
    reporter.finish()


@wheelferry_task("project", "verbose", "quiet", help={
    "output": "Where to write the script (default: fingerprint.py in the project folder, or "
    "here)."})
def fingerprint(c: Context, given: Given, output: str | None = None) -> None:
    """Write fingerprint.py: run it once on the platform (python3 fingerprint.py >
    platform.json), then set provided = "platform.json"."""
    reporter = given.reporter()
    delivery.fingerprint(output=Path(output) if output else Path(given.project or ".") /
                         "fingerprint.py", reporter=reporter)
    reporter.finish()


# The delivery commands' shared flags; index-url there is the vulnerability lookup's index.
DELIVERY_FLAGS = ("project", "wheelhouse", "index_url", "verbose", "quiet")
REVIEW_HELP = {
    "index_url": "The index whose JSON API lists each release's known vulnerabilities "
    "(overrides 'index-url'; default: PyPI).",
    "fail_on_vulnerable": "Make a known vulnerability an error (exit 12); nothing is written.",
}


@wheelferry_task(*DELIVERY_FLAGS, help={
    "output": "Where to write the bundle (default: wheelferry-bundle.sh in the project).",
    "since": "Make a delta over the wheelhouse on the platform: its SHA256SUMS file, or 'last' "
    "for the one the last bundle of this project packed.",
    "review": "Also write the review pack beside it (see 'review'); the bundle then carries "
    "review.json and the SBOM ('sh BUNDLE --review' shows them).",
    **REVIEW_HELP})
def bundle(c: Context, given: Given, output: str | None = None, since: str | None = None,
           review: bool = False, fail_on_vulnerable: bool = False) -> None:
    """Write one self-checking installer file of the wheelhouse: upload it, run it once."""
    if fail_on_vulnerable and not review:
        raise ConfigError("--fail-on-vulnerable goes with --review (it judges the review's "
                          "vulnerability lookup).", hint="Add --review.")
    # Its final line is the bundle's path, on standard output.
    path = delivery.bundle(given.options(), reporter=given.reporter(),
                           output=Path(output) if output else None, since=since,
                           review=review, fail_on_vulnerable=fail_on_vulnerable)
    print(path, flush=True)


@wheelferry_task(*DELIVERY_FLAGS, help={
    "output": "The folder to write review.html, review.json, sbom.cdx.json and pylock.toml "
    "into (default: the project folder, beside the bundle).",
    **REVIEW_HELP})
def review(c: Context, given: Given, output: str | None = None,
           fail_on_vulnerable: bool = False) -> None:
    """Write the review pack for the airlock: review.html, review.json, SBOM, pylock.toml."""
    reporter = given.reporter()
    delivery.review(given.options(), reporter=reporter, output=Path(output) if output else None,
                    fail_on_vulnerable=fail_on_vulnerable)
    reporter.finish()


@wheelferry_task("project", "python", "image", "wheelhouse", "platform_image", "arch", "json")
def status(c: Context, given: Given) -> None:
    """Where the project stands: target, locks fresh or stale, wheelhouse built and proven."""
    options = given.options()
    found = delivery.status(options)
    if given.json:
        jsonout.emit(jsonout.status(str(options.project_dir), found))
        return
    print_facts(f"wheelferry status of {options.project_dir}", found.rows())


@wheelferry_task("quiet", name="init", iterable=["requirement"], help=dict(
    project="The folder to start the project in (default: here); made when missing.",
    requirement="A requirement for the platform, e.g. 'numpy>=1.26' (repeatable; 'wheelferry "
    "init REQ...' takes them as words too).",
    from_="Read the requirements from this requirements.txt (pins, comments; hashes are "
    "dropped: the lock makes its own).",
    python="The platform's Python, major.minor (default: 3.10).",
    platform_image="The platform's own image (its packages are then left to it, and the "
    "proof runs in it).",
    provided="What the platform provides: a 'pip list --format=freeze' file from it, 'auto' "
    "or 'none'.",
    index_url="The package index to use (default: pip's); one on this machine's loopback also "
    "sets network = \"host\"."))
def init(c: Context, given: Given, requirement: list[str] | None = None,
         from_: str | None = None, python: str | None = None, platform_image: str | None = None,
         provided: str | None = None, index_url: str | None = None,
         project: str | None = None) -> None:
    """Start a project: write [tool.wheelferry] into pyproject.toml and requirements/base.in."""
    folder = Path(project) if project else Path.cwd()
    folder.mkdir(parents=True, exist_ok=True)
    started = newproject.start(folder.resolve(), requirements=requirement or [],
                               from_file=Path(from_) if from_ else None, python=python,
                               platform_image=platform_image, provided=provided,
                               index_url=index_url)
    reporter = given.reporter()
    textout.started(reporter, started, project)
    reporter.finish()


@wheelferry_task("quiet", "json", name="cache", positional=["action"], iterable=["only"],
                 help=dict(
    action="info (default): each cache's place, size and entries; prune: remove the least "
    "recently used entries (--older-than, --max-size); clean: remove every entry.",
    older_than="prune: remove the entries unused for this long, e.g. 30d, 12h, 2w.",
    max_size="prune: then remove the least recently used until all fit, e.g. 5GiB, 500MB.",
    only="Only this cache: wheels, probes or upstream (repeatable)."))
def cache(c: Context, given: Given, action: str | None = None, older_than: str | None = None,
          max_size: str | None = None, only: list[str] | None = None) -> None:
    """The user caches (built wheels, image probes, upstream checks): info, prune, clean."""
    action = action or "info"
    names = tuple(only or ())
    known = [found.name for found in caches.caches()]
    if action not in ("info", "prune", "clean"):
        raise ConfigError(f"'wheelferry cache {action}' is not a cache command.",
                          hint="Use info, prune (--older-than 30d and/or --max-size 5GiB) or "
                          "clean.")
    if set(names) - set(known):
        raise ConfigError(f"--only {', '.join(sorted(set(names) - set(known)))}: no such cache.",
                          hint=f"The caches are {', '.join(known)}.")
    if action == "info":
        found = [(each, each.entries()) for each in caches.caches()
                 if not names or each.name in names]
        if given.json:
            jsonout.emit(jsonout.cache_info(found))
            return
        textout.cache_info(found)
        return
    if action == "prune" and older_than is None and max_size is None:
        raise ConfigError("'wheelferry cache prune' needs --older-than and/or --max-size.",
                          hint="For example: wheelferry cache prune --older-than 30d "
                          "--max-size 5GiB ('wheelferry cache clean' removes every entry).")
    if action == "clean" and (older_than is not None or max_size is not None):
        raise ConfigError("'wheelferry cache clean' removes every entry; --older-than and "
                          "--max-size are for 'wheelferry cache prune'.")
    reporter = given.reporter()
    pruned = caches.prune(
        older_than=None if older_than is None else caches.parse_age(older_than),
        max_size=None if max_size is None else caches.parse_size(max_size), names=names)
    textout.cache_pruned(reporter, pruned)
    reporter.finish()
    if given.json:
        jsonout.emit(jsonout.cache_pruned(action, pruned))


namespace = Collection(lock, build, verify, init_script, bundle, status, init, review, cache,
                       fingerprint)
