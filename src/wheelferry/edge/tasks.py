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

from wheelferry.commands import caches, delivery, newproject
from wheelferry.commands import flows as commands
from wheelferry.core.errors import ConfigError, Interrupted, WheelferryError, from_os_error
from wheelferry.core.report import Reporter, format_size, print_facts
from wheelferry.edge import jsonout
from wheelferry.project.config import load_options
from wheelferry.project.options import Options

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
    "quiet": "Print errors and the final line only.",
    "json": "Print the result as one JSON document on standard output (messages stay on "
    "standard error; an error is a JSON document too).",
}


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


def _options(project: str | None, **flags: Any) -> Options:
    keys = {"python": "python", "image": "image", "wheelhouse": "wheelhouse",
            "engine": "engine", "index_url": "index-url", "platform_image": "platform-image",
            "arch": "arch", "resolver": "resolver"}
    mapped = {keys[name]: value for name, value in flags.items() if name in keys}
    return load_options(Path(project) if project else Path.cwd(), mapped)


@wheelferry_task(help=_help("project", "python", "image", "engine", "index_url", "verbose",
                            "platform_image", "arch", "resolver", "quiet",
                 upgrade="Re-resolve every lock, taking the newest allowed versions.",
                 upgrade_package="Re-resolve this package (repeatable)."),
      iterable=["upgrade_package"])
@edge
def lock(c: Context, upgrade: bool = False, upgrade_package: list[str] | None = None,
         project: str | None = None, python: str | None = None, image: str | None = None,
         engine: str | None = None, index_url: str | None = None,
         platform_image: str | None = None, arch: str | None = None,
         resolver: str | None = None, verbose: bool = False, quiet: bool = False) -> None:
    """Compile requirements/X.in into X.txt with hashes, resolved for the target interpreter."""
    options = _options(project, python=python, image=image, engine=engine, index_url=index_url,
                       platform_image=platform_image, arch=arch, resolver=resolver)
    reporter = Reporter(verbose=verbose, quiet=quiet)
    commands.lock(options, reporter=reporter, upgrade=upgrade,
                  upgrade_packages=upgrade_package or [])
    reporter.finish()


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
          resolver: str | None = None, verbose: bool = False, quiet: bool = False,
          json: bool = False) -> None:
    """Lock if stale, then build one wheel per pin in the target image into the wheelhouse."""
    if jobs < 0:
        raise ConfigError(f"--jobs must be 0 (the container's CPU count) or more, not {jobs}.")
    options = _options(project, python=python, image=image, wheelhouse=wheelhouse,
                       engine=engine, index_url=index_url, platform_image=platform_image, arch=arch,
                       resolver=resolver)
    reporter = Reporter(verbose=verbose, quiet=quiet)
    built = commands.build(options, reporter=reporter, upgrade=upgrade,
                           upgrade_packages=upgrade_package or [], jobs=jobs)
    reporter.finish()
    if json:
        jsonout.emit(jsonout.build(str(options.wheelhouse), built.manifest, built.reused))


@wheelferry_task(help=_help("project", "python", "image", "wheelhouse", "engine", "verbose",
                            "platform_image", "arch", "quiet", "json",
                            static="Only the static checks (checksums, pins, tags); no container."))
@edge
def verify(c: Context, static: bool = False, project: str | None = None,
           python: str | None = None, image: str | None = None, wheelhouse: str | None = None,
           engine: str | None = None, platform_image: str | None = None, arch: str | None = None,
           verbose: bool = False, quiet: bool = False, json: bool = False) -> None:
    """Prove the wheelhouse: checksums and pins, then a desktop start with the generated init.sh
    (network off, as the platform's user), pip check and imports."""
    options = _options(project, python=python, image=image, wheelhouse=wheelhouse, engine=engine,
                       platform_image=platform_image, arch=arch)
    reporter = Reporter(verbose=verbose, quiet=quiet)
    verified = commands.verify(options, reporter=reporter, static_only=static)
    reporter.finish()
    if json:
        jsonout.emit(jsonout.verify(
            str(options.wheelhouse), wheels=verified.wheels, static_only=verified.static_only,
            image=verified.image, user=verified.user,
            platform_checked=verified.platform_checked, warnings=verified.warnings))


@wheelferry_task(name="init-script",
      help=_help("project", "wheelhouse", "verbose", "quiet",
                 output="Where to write the script (default: init.sh in the project)."))
@edge
def init_script(c: Context, output: str | None = None, project: str | None = None,
                wheelhouse: str | None = None, verbose: bool = False, quiet: bool = False) -> None:
    """Write init.sh: check the uploaded wheelhouse and install it offline on the platform."""
    options = _options(project, wheelhouse=wheelhouse)
    reporter = Reporter(verbose=verbose, quiet=quiet)
    delivery.init_script(options, reporter=reporter, output=Path(output) if output else None)
    reporter.finish()


@wheelferry_task(help=_help("project", "verbose", "quiet",
                            output="Where to write the script (default: fingerprint.py in the "
                            "project folder, or here)."))
@edge
def fingerprint(c: Context, output: str | None = None, project: str | None = None,
                verbose: bool = False, quiet: bool = False) -> None:
    """Write fingerprint.py: run it once on the platform (python3 fingerprint.py >
    platform.json), then set provided = "platform.json"."""
    reporter = Reporter(verbose=verbose, quiet=quiet)
    delivery.fingerprint(output=Path(output) if output else Path(project or ".") /
                         "fingerprint.py", reporter=reporter)
    reporter.finish()


REVIEW_HELP = {
    "index_url": "The index whose JSON API lists each release's known vulnerabilities "
    "(overrides 'index-url'; default: PyPI).",
    "fail_on_vulnerable": "Make a known vulnerability an error (exit 12); nothing is written.",
}


@wheelferry_task(help=_help("project", "wheelhouse", "verbose", "quiet",
                 output="Where to write the bundle (default: wheelferry-bundle.sh in the "
                 "project).",
                 since="Make a delta over the wheelhouse on the platform: its SHA256SUMS file, "
                 "or 'last' for the one the last bundle of this project packed.",
                 review="Also write the review pack beside it (see 'review'); the bundle then "
                 "carries review.json and the SBOM ('sh BUNDLE --review' shows them).",
                 index_url=REVIEW_HELP["index_url"],
                 fail_on_vulnerable=REVIEW_HELP["fail_on_vulnerable"]))
@edge
def bundle(c: Context, output: str | None = None, since: str | None = None,
           project: str | None = None, wheelhouse: str | None = None,
           verbose: bool = False, quiet: bool = False, review: bool = False,
           index_url: str | None = None, fail_on_vulnerable: bool = False) -> None:
    """Write one self-checking installer file of the wheelhouse: upload it, run it once."""
    if fail_on_vulnerable and not review:
        raise ConfigError("--fail-on-vulnerable goes with --review (it judges the review's "
                          "vulnerability lookup).", hint="Add --review.")
    options = _options(project, wheelhouse=wheelhouse, index_url=index_url)
    # Its final line is the bundle's path, on standard output.
    path = delivery.bundle(options, reporter=Reporter(verbose=verbose, quiet=quiet),
                           output=Path(output) if output else None, since=since,
                           review=review, fail_on_vulnerable=fail_on_vulnerable)
    print(path, flush=True)


@wheelferry_task(help=_help("project", "wheelhouse", "verbose", "quiet",
                 output="The folder to write review.html, review.json, sbom.cdx.json and "
                 "pylock.toml into (default: the project folder, beside the bundle).",
                 **REVIEW_HELP))
@edge
def review(c: Context, output: str | None = None, project: str | None = None,
           wheelhouse: str | None = None, index_url: str | None = None,
           fail_on_vulnerable: bool = False, verbose: bool = False,
           quiet: bool = False) -> None:
    """Write the review pack for the airlock: review.html, review.json, SBOM, pylock.toml."""
    options = _options(project, wheelhouse=wheelhouse, index_url=index_url)
    reporter = Reporter(verbose=verbose, quiet=quiet)
    delivery.review(options, reporter=reporter, output=Path(output) if output else None,
                    fail_on_vulnerable=fail_on_vulnerable)
    reporter.finish()


@wheelferry_task(help=_help("project", "python", "image", "wheelhouse", "platform_image", "arch",
                            "json"))
@edge
def status(c: Context, project: str | None = None, python: str | None = None,
           image: str | None = None, wheelhouse: str | None = None,
           platform_image: str | None = None, arch: str | None = None,
           json: bool = False) -> None:
    """Where the project stands: target, locks fresh or stale, wheelhouse built and proven."""
    options = _options(project, python=python, image=image, wheelhouse=wheelhouse,
                       platform_image=platform_image, arch=arch)
    found = delivery.status(options)
    if json:
        jsonout.emit(jsonout.status(str(options.project_dir), found))
        return
    print_facts(f"wheelferry status of {options.project_dir}", found.rows())


@wheelferry_task(name="init", iterable=["requirement"], help=_help(
    "quiet",
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
@edge
def init(c: Context, requirement: list[str] | None = None, from_: str | None = None,
         python: str | None = None, platform_image: str | None = None,
         provided: str | None = None, index_url: str | None = None,
         project: str | None = None, quiet: bool = False) -> None:
    """Start a project: write [tool.wheelferry] into pyproject.toml and requirements/base.in."""
    folder = Path(project) if project else Path.cwd()
    folder.mkdir(parents=True, exist_ok=True)
    started = newproject.start(folder.resolve(), requirements=requirement or [],
                               from_file=Path(from_) if from_ else None, python=python,
                               platform_image=platform_image, provided=provided,
                               index_url=index_url)
    reporter = Reporter(quiet=quiet)
    verb = "wrote" if started.created_pyproject else "added [tool.wheelferry] to"
    reporter.info(f"{verb} {started.pyproject}")
    reporter.info(f"wrote {started.inputs} ({len(started.requirements)} requirement(s))")
    if started.network_host:
        reporter.info('the index is on this machine\'s loopback: network = "host" lets the '
                      "containers reach it")
    reporter.info("next: wheelferry build" + (f" -p {project}" if project else ""))
    reporter.finish()


@wheelferry_task(name="cache", positional=["action"], iterable=["only"], help=_help(
    "quiet", "json",
    action="info (default): each cache's place, size and entries; prune: remove the least "
    "recently used entries (--older-than, --max-size); clean: remove every entry.",
    older_than="prune: remove the entries unused for this long, e.g. 30d, 12h, 2w.",
    max_size="prune: then remove the least recently used until all fit, e.g. 5GiB, 500MB.",
    only="Only this cache: wheels, probes or upstream (repeatable)."))
@edge
def cache(c: Context, action: str | None = None, older_than: str | None = None,
          max_size: str | None = None, only: list[str] | None = None, quiet: bool = False,
          json: bool = False) -> None:
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
        if json:
            jsonout.emit(jsonout.cache_info(found))
            return
        rows = [(each.name, (f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, "
                             f"{format_size(sum(e.size for e in entries))}"
                             f" in {each.folder} ({each.holds})") if each.folder is not None
                 else f"turned off ({each.holds})") for each, entries in found]
        total = sum(e.size for _, entries in found for e in entries)
        print_facts(f"wheelferry caches ({format_size(total)} in all)", rows)
        return
    if action == "prune" and older_than is None and max_size is None:
        raise ConfigError("'wheelferry cache prune' needs --older-than and/or --max-size.",
                          hint="For example: wheelferry cache prune --older-than 30d "
                          "--max-size 5GiB ('wheelferry cache clean' removes every entry).")
    if action == "clean" and (older_than is not None or max_size is not None):
        raise ConfigError("'wheelferry cache clean' removes every entry; --older-than and "
                          "--max-size are for 'wheelferry cache prune'.")
    reporter = Reporter(quiet=quiet)
    pruned = caches.prune(
        older_than=None if older_than is None else caches.parse_age(older_than),
        max_size=None if max_size is None else caches.parse_size(max_size), names=names)
    if pruned.kept_in_use:
        reporter.info(f"kept {len(pruned.kept_in_use)} wheel cache entr"
                      f"{'y' if len(pruned.kept_in_use) == 1 else 'ies'} that a running build "
                      "uses; prune again when it is done to remove them")
    reporter.info(f"removed {len(pruned.removed)} entr"
                  f"{'y' if len(pruned.removed) == 1 else 'ies'}, "
                  f"{format_size(pruned.freed)} freed; {format_size(pruned.remaining)} left")
    reporter.finish()
    if json:
        jsonout.emit(jsonout.cache_pruned(action, pruned))


namespace = Collection(lock, build, verify, init_script, bundle, status, init, review, cache,
                       fingerprint)
