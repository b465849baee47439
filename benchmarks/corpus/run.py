"""The real-world corpus (issue 17): each requirement set taken from a blank project with the
default settings through the real CLI (`wheelferry build`, `verify`, `init-script`), then a
desktop start that runs the generated init.sh and calls each package once.

    .venv/bin/python benchmarks/corpus/run.py [NAMES...] [--platform-image IMAGE] [--out FILE]
    .venv/bin/python benchmarks/corpus/run.py --from-logs --out FILE   # table of the last runs

Each set is a folder here: `requirements.in` (pins as published), `SOURCE` (where they come
from), `call.py` (one real call per package, one line each), optionally `EXPECTED` (why the set
is expected to fail, e.g. a system library) and `wheelferry.toml` (settings the set needed: TOML
lines appended to the blank project's `[tool.wheelferry]` table, so top-level keys first, then
full `[tool.wheelferry.overrides.NAME]` tables; the table then says "configured: yes").

The blank project's `pyproject.toml` holds only `requirements = ["requirements.in"]` (and
`platform-image` when given): no lock, no wheelhouse. Each set gets a wheel cache of its own
(a new user's), unless --shared-wheel-cache. The desktop start is a fresh container of the
platform image (else python:3.10), network off, as a non-root user, with the wheelhouse at the
install dir and init.sh at ~/persistent-home/init.sh; it is always removed.

Needs the public package index and a container engine: it is not part of .ci/run. Serialize
it with the other engine users: `flock /tmp/wheelferry-engine.lock .venv/bin/python ...`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the 3.10 hosts
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

CORPUS = Path(__file__).resolve().parent
WHEELFERRY = str(Path(sys.executable).parent / "wheelferry")
PLAIN_IMAGE = "python:3.10"
PLAIN_USER = "1000:1000"
PLAIN_HOME = "/home/corpus"
INSTALL_DIR = "persistent-home/my-tools"
"""wheelferry's default install-dir, relative to the home folder."""
CALL_MOUNT = "/corpus/call.py"
LABEL = "io.wheelferry.corpus"
DEFAULT_LOGS = Path(tempfile.gettempdir()) / "wheelferry-corpus"
ERROR_TITLES = (
    "lock failed", "build failed", "verification failed", "configuration error",
    "container engine error", "image error", "init-script failed", "wheelferry failed",
    "cannot write", "project busy", "interrupted",
)
"""How wheelferry's errors begin (errors.py: `TITLE: message`); the cause is that paragraph."""
CAUSE_LINES = 3
CAUSE_WIDTH = 240


# -- the sets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusSet:
    """One requirement set of the corpus, as found in its folder."""

    name: str
    folder: Path
    source: str
    expected: str
    fragment: str | None

    @property
    def configured(self) -> bool:
        return self.fragment is not None


class CorpusError(Exception):
    """A corpus folder or an argument that the runner cannot use; the message says which."""


def discover(root: Path) -> list[CorpusSet]:
    """Every folder under `root` that holds a requirements.in, by name."""
    sets = []
    for folder in sorted(p for p in root.iterdir() if (p / "requirements.in").is_file()):
        missing = [f for f in ("SOURCE", "call.py") if not (folder / f).is_file()]
        if missing:
            raise CorpusError(f"corpus set {folder.name}: {', '.join(missing)} missing in {folder}")
        fragment_file = folder / "wheelferry.toml"
        expected_file = folder / "EXPECTED"
        sets.append(CorpusSet(
            name=folder.name,
            folder=folder,
            source=(folder / "SOURCE").read_text(encoding="utf-8").strip(),
            expected=expected_file.read_text(encoding="utf-8").strip()
            if expected_file.is_file() else "",
            fragment=fragment_file.read_text(encoding="utf-8")
            if fragment_file.is_file() else None,
        ))
    return sets


def select(sets: Sequence[CorpusSet], names: Sequence[str]) -> list[CorpusSet]:
    """The named sets in the order given (all of them without names)."""
    if not names:
        return list(sets)
    by_name = {s.name: s for s in sets}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise CorpusError(f"no corpus set named {', '.join(unknown)}; the sets are: "
                          f"{', '.join(by_name)}")
    return [by_name[n] for n in names]


def pyproject_text(corpus_set: CorpusSet, *, platform_image: str | None) -> str:
    """The blank project's pyproject.toml: the requirements file, the platform image when
    given, and the set's own settings when it needed some."""
    lines = ["[tool.wheelferry]", 'requirements = ["requirements.in"]']
    if platform_image is not None:
        lines.append(f"platform-image = {json.dumps(platform_image)}")
    text = "\n".join(lines) + "\n"
    if corpus_set.fragment is not None:
        text += corpus_set.fragment.rstrip("\n") + "\n"
    try:  # (TOML itself refuses a second `requirements`)
        tomllib.loads(text)["tool"]["wheelferry"]
    except (tomllib.TOMLDecodeError, KeyError) as exc:
        raise CorpusError(f"corpus set {corpus_set.name}: its wheelferry.toml does not make a "
                          f"valid [tool.wheelferry] table ({exc})") from exc
    return text


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """What happened to one set: `outcome` is "ok" or "failed at STEP" (lock, build, verify,
    start); `cause` is wheelferry's own message (or the desktop start's failing calls)."""

    name: str
    outcome: str
    seconds: float
    cause: str
    configured: bool
    image: str = PLAIN_IMAGE
    expected: str = ""
    steps: dict[str, float] = field(default_factory=dict)
    finished: str = ""


def failed_step(command: str, exit_code: int) -> str:
    """Where a failed CLI step failed: `build` locks first (exit 4 is the lock's)."""
    if command == "build":
        return "lock" if exit_code == 4 else "build"
    if command == "verify":
        return "verify"
    return "start"


def error_paragraph(output: str) -> str:
    """wheelferry's own error from a command's standard error: from the line that starts with
    an error title to the end (the error is the last thing wheelferry prints: its message, an
    override snippet, the indented log lines); else the last lines it printed."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(tuple(f"{title}:" for title in ERROR_TITLES)):
            return "\n".join(lines[index:]).rstrip()
    tail = [line for line in lines if line.strip()][-5:]
    return "\n".join(tail)


def start_failures(output: str) -> str:
    """The calls that failed on the desktop start: each `FAILED name:` with the exception line
    that ended its traceback (call.py's closing `failed: ...` summary is not one); else the last
    lines the start printed."""
    lines = output.splitlines()
    found = []
    current: str | None = None
    last_exception = ""
    for line in [*lines, "ok end"]:
        if line.startswith(("FAILED ", "ok ")):
            if current is not None:
                found.append(f"{current} {last_exception}".rstrip())
            current = line if line.startswith("FAILED ") else None
            last_exception = ""
        elif current is not None and line.strip() \
                and not line.startswith((" ", "Traceback", "failed: ")):
            last_exception = line.strip()
    if found:
        return "\n".join(found)
    return "\n".join([line for line in lines if line.strip()][-5:])


def short_cause(cause: str, *, lines: int = CAUSE_LINES, width: int = CAUSE_WIDTH) -> str:
    """The first lines of a cause on one line, for a table cell."""
    text = " / ".join(line.strip() for line in cause.splitlines()[:lines] if line.strip())
    return text if len(text) <= width else text[: width - 3] + "..."


def images(results: Sequence[Result]) -> str:
    return ", ".join(f"`{image}`" for image in sorted({r.image for r in results})) or "-"


def render_markdown(results: Sequence[Result], *, when: str) -> str:
    """The table as Markdown, headed by its date and the desktop start's image."""
    ok = sum(1 for r in results if r.outcome == "ok")
    times = sorted({r.finished for r in results if r.finished})
    span = f"runs of {times[0]} to {times[-1]}" if len(times) > 1 else f"run of {when}"
    head = (f"Corpus {span}, desktop start in {images(results)}: {ok} of "
            f"{len(results)} sets ok.\n\n")
    rows = ["| set | outcome | time | cause of the failure | configured |",
            "| --- | --- | --- | --- | --- |"]
    for result in results:
        cause = short_cause(result.cause) if result.outcome != "ok" else ""
        if result.expected:
            cause = f"{cause} (expected: {result.expected})" if cause else \
                f"(expected: {result.expected})"
        cell = cause.replace("|", "\\|").replace("`", "'")
        rows.append(f"| {result.name} | {result.outcome} | {result.seconds:.0f} s | {cell} | "
                    f"{'yes' if result.configured else 'no'} |")
    return head + "\n".join(rows) + "\n"


def print_table(results: Sequence[Result], *, when: str) -> None:
    """rich on a terminal, plain lines elsewhere."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"wheelferry corpus, {when}, desktop start in {images(results)}")
        for column in ("set", "outcome", "time", "cause of the failure", "configured"):
            table.add_column(column, overflow="fold")
        for result in results:
            table.add_row(result.name, result.outcome, f"{result.seconds:.0f} s",
                          short_cause(result.cause) if result.outcome != "ok" else "",
                          "yes" if result.configured else "no")
        Console().print(table)
        return
    print(render_markdown(results, when=when), end="")


# -- running a set ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRun:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float


def clean_environment(wheel_cache: Path | None) -> dict[str, str]:
    """The host's environment without its pip configuration (the test bed's rule), and the
    set's own wheel cache unless the user's is shared."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    if wheel_cache is not None:
        env["WHEELFERRY_WHEEL_CACHE"] = str(wheel_cache)
    return env


def run_step(command: Sequence[str], *, env: dict[str, str], timeout: float) -> StepRun:
    """Run one CLI step; past `timeout` it gets SIGINT (wheelferry then removes its containers),
    then SIGKILL if it does not end."""
    started = time.monotonic()
    with subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            try:
                stdout, stderr = process.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, stderr = process.communicate()
            stderr += f"\ncorpus runner: stopped after {timeout:.0f} s\n"
    return StepRun(exit_code=process.returncode, stdout=stdout, stderr=stderr,
                   seconds=time.monotonic() - started)


def desktop_start(*, image: str, platform: bool, wheelhouse: Path, init_script: Path,
                  call_py: Path, timeout: float) -> tuple[int, str]:
    """A fresh container of `image`, network off, as a non-root user: the wheelhouse read-only
    at the install dir, init.sh at ~/persistent-home/init.sh (run by the platform image's own
    entrypoint when it has one, else here), then call.py. Always removed."""
    import docker
    import docker.errors
    import docker.types

    client = docker.from_env(timeout=int(timeout) + 60)
    try:
        try:
            config: dict[str, Any] = client.images.get(image).attrs["Config"] or {}
        except docker.errors.ImageNotFound as exc:
            raise CorpusError(f"the desktop start needs the image {image}, which is not on "
                              "this machine") from exc
        image_user = str(config.get("User") or "")
        non_root = platform and image_user not in ("", "root", "0", "0:0")
        user = image_user if non_root else PLAIN_USER
        own_entrypoint = platform and bool(config.get("Entrypoint"))
        with tempfile.TemporaryDirectory(prefix="wheelferry-corpus-start-") as scratch_dir:
            scratch = Path(scratch_dir)
            persistent = scratch / "persistent-home"
            persistent.mkdir()
            shutil.copyfile(init_script, persistent / "init.sh")
            os.chmod(persistent, 0o777)
            os.chmod(persistent / "init.sh", 0o644)
            os.chmod(scratch, 0o755)
            mounts = []
            environment: dict[str, str] = {}
            if non_root:
                home = _home_of(client, image, user)
            else:
                home = PLAIN_HOME
                scratch_home = scratch / "home"
                scratch_home.mkdir()
                os.chmod(scratch_home, 0o777)
                mounts.append(docker.types.Mount(home, str(scratch_home), type="bind"))
                environment["HOME"] = home
            mounts += [
                docker.types.Mount(f"{home}/persistent-home", str(persistent), type="bind"),
                docker.types.Mount(f"{home}/{INSTALL_DIR}", str(wheelhouse), type="bind",
                                   read_only=True),
                docker.types.Mount(CALL_MOUNT, str(call_py), type="bind", read_only=True),
            ]
            options: dict[str, Any] = {}
            if own_entrypoint:
                command: list[str] = ["python3", CALL_MOUNT]
            else:
                options["entrypoint"] = ["sh", "-c",
                                         f'bash "$HOME/persistent-home/init.sh"; '
                                         f"exec python3 {CALL_MOUNT}"]
                command = []
            container = client.containers.create(
                image, command=command or None, user=user, environment=environment,
                mounts=mounts, network_mode="none", working_dir=home,
                labels={LABEL: "desktop-start"}, detach=True, **options)
            try:
                container.start()
                try:
                    exit_code = int(container.wait(timeout=timeout).get("StatusCode", -1))
                except Exception:  # the SDK's read timeout: the start hangs
                    container.kill()
                    exit_code = -1
                output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
                if exit_code == -1:
                    output += f"\ncorpus runner: desktop start stopped after {timeout:.0f} s\n"
            finally:
                container.remove(force=True)
    finally:
        client.close()
    return exit_code, output


def _home_of(client: Any, image: str, user: str) -> str:
    """The home folder of `user` in `image` (what the platform's start gets as HOME)."""
    # Detached, then its logs, then removed: with remove=True a container that ends at once
    # may be gone before its output is read.
    container = client.containers.run(
        image, entrypoint=["sh", "-c", 'printf %s "$HOME"'], user=user, network_mode="none",
        labels={LABEL: "home"}, detach=True)
    try:
        container.wait(timeout=120)
        output: bytes = container.logs(stdout=True, stderr=False)
    finally:
        container.remove(force=True)
    home = output.decode().strip()
    if not home.startswith("/"):
        raise CorpusError(f"{image}: its user {user} has no home folder ({home!r})")
    return home


def run_set(corpus_set: CorpusSet, *, platform_image: str | None, logs: Path,
            shared_wheel_cache: bool, timeout: float, keep: bool) -> Result:
    """One set from a blank project: build (which locks), verify, init-script, desktop start."""
    log_dir = logs / corpus_set.name
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):  # the last result.json stays until this run replaces it
        old.unlink()
    work = Path(tempfile.mkdtemp(prefix=f"wheelferry-corpus-{corpus_set.name}-"))
    started = time.monotonic()
    steps: dict[str, float] = {}
    outcome, cause = "ok", ""
    try:
        project = work / "project"
        project.mkdir()
        shutil.copyfile(corpus_set.folder / "requirements.in", project / "requirements.in")
        (project / "pyproject.toml").write_text(
            pyproject_text(corpus_set, platform_image=platform_image), encoding="utf-8")
        env = clean_environment(None if shared_wheel_cache else work / "wheel-cache")
        init_script = work / "init.sh"
        for step, args in (("build", ["build"]), ("verify", ["verify"]),
                           ("init-script", ["init-script", "-o", str(init_script)])):
            say(f"{corpus_set.name}: wheelferry {step} ...")
            done = run_step([WHEELFERRY, *args, "-p", str(project)], env=env, timeout=timeout)
            steps[step] = round(done.seconds, 1)
            (log_dir / f"{step}.log").write_text(
                f"$ wheelferry {' '.join(args)}\n--- stdout ---\n{done.stdout}\n"
                f"--- stderr ---\n{done.stderr}\n--- exit {done.exit_code} ---\n",
                encoding="utf-8")
            say(f"{corpus_set.name}: wheelferry {step} exit {done.exit_code} "
                f"({done.seconds:.1f} s)")
            if done.exit_code != 0:
                outcome = f"failed at {failed_step(step, done.exit_code)}"
                cause = error_paragraph(done.stderr) or error_paragraph(done.stdout)
                break
        else:
            say(f"{corpus_set.name}: desktop start ...")
            begun = time.monotonic()
            exit_code, output = desktop_start(
                image=platform_image or PLAIN_IMAGE, platform=platform_image is not None,
                wheelhouse=project / "wheelhouse", init_script=init_script,
                call_py=corpus_set.folder / "call.py", timeout=min(timeout, 900))
            steps["start"] = round(time.monotonic() - begun, 1)
            (log_dir / "start.log").write_text(f"{output}\n--- exit {exit_code} ---\n",
                                               encoding="utf-8")
            say(f"{corpus_set.name}: desktop start exit {exit_code}")
            if exit_code != 0:
                outcome, cause = "failed at start", start_failures(output)
    finally:
        if keep:
            say(f"{corpus_set.name}: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result = Result(name=corpus_set.name, outcome=outcome,
                    seconds=round(time.monotonic() - started, 1), cause=cause,
                    configured=corpus_set.configured, image=platform_image or PLAIN_IMAGE,
                    expected=corpus_set.expected,
                    steps=steps, finished=now())
    (log_dir / "result.json").write_text(json.dumps(asdict(result), indent=2) + "\n",
                                         encoding="utf-8")
    return result


def stored_results(logs: Path, sets: Iterable[CorpusSet]) -> list[Result]:
    """The last result of each set from the log folder (sets never run are left out)."""
    results = []
    for corpus_set in sets:
        path = logs / corpus_set.name / "result.json"
        if path.is_file():
            results.append(Result(**json.loads(path.read_text(encoding="utf-8"))))
    return results


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def say(text: str) -> None:
    print(f"corpus: {text}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", help="sets to run (default: all)")
    parser.add_argument("--platform-image", help="the platform image: in every blank project, "
                        "and the desktop start's image (default: python:3.10)")
    parser.add_argument("--out", type=Path, help="write the table as Markdown, with its date")
    parser.add_argument("--logs", type=Path, default=DEFAULT_LOGS,
                        help=f"each set's logs and result (default: {DEFAULT_LOGS})")
    parser.add_argument("--from-logs", action="store_true",
                        help="run nothing: the table of the results stored in --logs")
    parser.add_argument("--shared-wheel-cache", action="store_true",
                        help="use the user's wheel cache instead of a new one per set")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds per CLI step before it is interrupted (default: 1800)")
    parser.add_argument("--keep", action="store_true", help="keep each blank project")
    args = parser.parse_args(argv)
    try:
        chosen = select(discover(CORPUS), args.names)
        if args.from_logs:
            results = stored_results(args.logs, chosen)
            when = max((r.finished for r in results), default=now())
        else:
            results = []
            for corpus_set in chosen:
                result = run_set(corpus_set, platform_image=args.platform_image, logs=args.logs,
                                 shared_wheel_cache=args.shared_wheel_cache,
                                 timeout=args.timeout, keep=args.keep)
                say(f"{result.name}: {result.outcome} ({result.seconds:.0f} s)"
                    + (f": {short_cause(result.cause)}" if result.cause else ""))
                results.append(result)
            when = now()
    except CorpusError as exc:
        print(f"corpus: {exc}", file=sys.stderr)
        return 2
    print_table(results, when=when)
    if args.out is not None:
        args.out.write_text(render_markdown(results, when=when), encoding="utf-8")
    return 0 if all(r.outcome == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
