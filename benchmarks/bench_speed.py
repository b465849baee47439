"""Whole-process timings of what users wait for, each against what a user would do by hand in
the same image, as medians over --runs, printed as a table of ratios.

    .venv/bin/python benchmarks/bench_speed.py --runs 5           # the fixture set
    .venv/bin/python benchmarks/bench_speed.py --runs 5 --real    # and a real set (public index)
    .venv/bin/python benchmarks/bench_speed.py --runs 5 --pinned  # and locking exact old pins

Sets:
- fixture: the test bed's fixture packages (sdists, one a C extension) on a local index, so the
  numbers do not depend on the public index.
- real (optional, --real, needs the public index): a scientific set of the kind researchers
  use: an ML library, a survival-analysis library, an imaging library, a plotting library.
- pinned (optional, --pinned, needs the public index, lock only): exact pins of 2023 (the
  corpus's ml-2023), whose dependencies wheelferry locks again as of their day.

Scenarios, every one with warm caches on both sides (each side's cache warmed by a first,
untimed run; wheelferry's own caches are its defaults under ~/.cache/wheelferry):
- lock: `wheelferry lock` (resolver uv, the default, and pip-compile) with no lock file, against
  `uv pip compile --generate-hashes` and `pip-compile --generate-hashes` run in the toolchain
  image (the target image plus pip-tools and uv, as wheelferry runs them).
- build: `wheelferry build` into an empty wheelhouse (locks kept), with its wheel cache off (every
  sdist compiled) and warm (what a second project needing the same sdists waits for), and again
  with nothing changed, against `pip wheel --require-hashes --no-deps -r LOCK` into an empty
  folder in the target image, with a persistent pip cache (which keeps the wheels pip built from
  the index's sdists too).
- verify: `wheelferry verify` (checks and a desktop start: init.sh, pip check, imports) against a
  plain offline install of the wheelhouse into a fresh venv in the target image.
- bundle: `wheelferry bundle` against `tar -cf` of the wheelhouse.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.local_index import build_index, default_cache_dir, serve_index  # noqa: E402
from tests.support import TARGET_IMAGE, ensure_toolchain, host_ca_bundle, write_project  # noqa: E402

from wheelferry.engine.client import DockerEngine  # noqa: E402
from wheelferry.target.image import toolchain_reference  # noqa: E402

WHEELFERRY = str(Path(sys.executable).parent / "wheelferry")
FIXTURE_SET = "wferryfx-needs-pure\nwferryfx-cext\nwferryfx-pure\nwferryfx-tomlish\n"
REAL_SET = "scikit-learn\nlifelines\nscikit-image\nmatplotlib\n"
# Exact pins of 2023 (the corpus's ml-2023): what they do not name is locked again as of their
# day (the old pins' era), a second resolve and the index's upload dates.
PINNED_SET = (ROOT / "benchmarks" / "corpus" / "ml-2023" / "requirements.in").read_text()
TOOLCHAIN_BIN = "/opt/wheelferry/bin"


@dataclass
class Table:
    """Rows of (scenario, median) grouped under the baseline each is compared with."""

    runs: int
    groups: list[tuple[str, str, list[tuple[str, float]]]] = field(default_factory=list)

    def add(self, title: str, baseline: str, rows: list[tuple[str, float]]) -> None:
        self.groups.append((title, baseline, rows))
        self.print_last()

    def print_last(self) -> None:
        """The group just measured, at once (a long run shows its numbers as they come)."""
        title, baseline, rows = self.groups[-1]
        base = dict(rows)[baseline]
        for name, median in rows:
            print(f"[{title}] {name}: {median:.3f} s, ratio {median / base:.2f}", flush=True)

    def print(self) -> None:
        print(f"\n{date.today().isoformat()}, {os.cpu_count()} cores, {platform.machine()}, "
              f"medians of {self.runs} whole-process runs")
        print(f"{'scenario':58} {'median s':>9} {'ratio':>7}")
        # A small wheelhouse's bundle is all fixed cost; bench_bundle.py measures it at scale.
        for title, baseline, rows in self.groups:
            print(f"-- {title} (ratio to {baseline})")
            base = dict(rows)[baseline]
            for name, median in rows:
                ratio = f"{median / base:7.2f}" if base >= 0.05 else "      -"
                print(f"{name:58} {median:9.3f} {ratio}")


def quiet(cmd: Sequence[str], **kwargs: object) -> None:
    done = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed ({done.returncode}): {' '.join(cmd)}\n"
                         f"{done.stdout[-3000:]}")


def median_time(runs: int, prepare: Callable[[], None], cmd: Sequence[str]) -> float:
    """Median wall time of `cmd` over `runs` runs, `prepare` before each (untimed)."""
    timings = []
    for _ in range(runs):
        prepare()
        started = time.perf_counter()
        quiet(cmd)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def nothing() -> None:
    return None


def in_image(image: str, project: Path, network: str, env: dict[str, str],
             command: Sequence[str], mounts: Sequence[tuple[Path, str]] = ()) -> list[str]:
    """`docker run` of `command` in `image` as the invoking user, with the project at /p."""
    cmd = ["docker", "run", "--rm", "--network", network, "--user", f"{os.getuid()}:{os.getgid()}",
           "-e", "HOME=/tmp", "-e", "PIP_CONFIG_FILE=/dev/null",
           "-e", "PIP_DISABLE_PIP_VERSION_CHECK=1", "-v", f"{project}:/p", "-w", "/p"]
    for name, value in env.items():
        cmd += ["-e", f"{name}={value}"]
    for source, target in mounts:
        cmd += ["-v", f"{source}:{target}"]
    return [*cmd, "--entrypoint", command[0], image, *command[1:]]


Mounts = list[tuple[Path, str]]


def index_env(index_url: str | None, ca: str | None) -> tuple[dict[str, str], Mounts]:
    env: dict[str, str] = {}
    mounts: Mounts = []
    if index_url:
        env.update(PIP_INDEX_URL=index_url, UV_INDEX_URL=index_url)
    if ca:
        mounts.append((Path(ca), "/ca.pem"))
        env.update(PIP_CERT="/ca.pem", SSL_CERT_FILE="/ca.pem")
    return env, mounts


def bench_lock(table: Table, runs: int, scratch: Path, name: str, requirements: str,
               index_url: str | None, network: str, ca: str | None, toolchain: str, *,
               pip_compile_too: bool = True) -> Path:
    """`wheelferry lock` against uv (and pip-compile) in the toolchain image; the project."""
    settings: dict[str, object] = {"network": network,
                                   "ca-bundle": ca if ca else "none"}
    if index_url:
        settings["index-url"] = index_url
    project = write_project(scratch / name / "project", {"base.in": requirements}, **settings)
    lock = project / "requirements" / "base.txt"
    caches = scratch / name / "caches"
    for folder in ("pip", "uv", "pip-wheel", "out"):
        (caches / folder).mkdir(parents=True, exist_ok=True)
    env, mounts = index_env(index_url, ca)
    env.update(PIP_CACHE_DIR="/cache/pip", UV_CACHE_DIR="/cache/uv")
    mounts = [*mounts, (caches, "/cache")]

    def no_lock() -> None:
        lock.unlink(missing_ok=True)

    uv = in_image(toolchain, project, network, env, [
        f"{TOOLCHAIN_BIN}/uv", "pip", "compile", "--quiet", "--generate-hashes",
        "--python", f"{TOOLCHAIN_BIN}/python", "--index-strategy", "unsafe-best-match",
        "-o", "/cache/out/uv.txt", "requirements/base.in"], mounts)
    pip_compile = in_image(toolchain, project, network, env, [
        f"{TOOLCHAIN_BIN}/pip-compile", "--quiet", "--generate-hashes", "--allow-unsafe",
        "--strip-extras", "-o", "/cache/out/pip-compile.txt", "requirements/base.in"], mounts)

    def no_outputs() -> None:
        for made in (caches / "out").iterdir():
            made.unlink()

    lock_cmd = [WHEELFERRY, "lock", "--project", str(project)]
    pip_lock_cmd = [*lock_cmd, "--resolver", "pip-compile"]
    measured = [("uv pip compile --generate-hashes", uv, no_outputs)]
    measured += [("pip-compile --generate-hashes", pip_compile, no_outputs)] \
        if pip_compile_too else []
    measured += [("wheelferry lock (resolver uv, the default)", lock_cmd, no_lock)]
    measured += [("wheelferry lock --resolver pip-compile", pip_lock_cmd, no_lock)] \
        if pip_compile_too else []
    for _, warm, _ in measured:  # every cache warm
        no_lock()
        no_outputs()
        quiet(warm)
    rows = [(title, median_time(runs, prepare, cmd)) for title, cmd, prepare in measured]
    table.add(f"{name} set: lock", "uv pip compile --generate-hashes", rows)
    return project


def bench_set(table: Table, runs: int, scratch: Path, name: str, requirements: str,
              index_url: str | None, network: str, ca: str | None, toolchain: str) -> None:
    project = bench_lock(table, runs, scratch, name, requirements, index_url, network, ca,
                         toolchain)
    wheelhouse = project / "wheelhouse"
    caches = scratch / name / "caches"

    # Build: the lock stays; the wheelhouse (or pip's output folder) starts empty.
    build_cmd = [WHEELFERRY, "build", "--project", str(project)]
    quiet(build_cmd)
    wheel_env, wheel_mounts = index_env(index_url, ca)
    wheel_env["PIP_CACHE_DIR"] = "/cache"
    pip_out = scratch / name / "pip-out"
    pip_wheel = in_image(TARGET_IMAGE, project, network, wheel_env, [
        # --use-pep517: an sdist with only a setup.py builds in isolation, as wheelferry builds
        # it (the image's pip would otherwise need `wheel` installed beside it).
        "pip", "wheel", "--quiet", "--use-pep517", "--require-hashes", "--no-deps", "-r",
        "requirements/base.txt", "-w", "/out"],
        [*wheel_mounts, (caches / "pip-wheel", "/cache"), (pip_out, "/out")])

    def empty_out() -> None:
        shutil.rmtree(pip_out, ignore_errors=True)
        pip_out.mkdir()

    def empty_wheelhouse() -> None:
        shutil.rmtree(wheelhouse, ignore_errors=True)

    empty_out()
    quiet(pip_wheel)  # pip's cache warm
    rows = [
        ("pip wheel -r LOCK (empty folder)", median_time(runs, empty_out, pip_wheel)),
        # Every sdist compiled again: the wheel cache (built wheels shared by projects) off.
        ("wheelferry build (empty wheelhouse, no wheel cache)",
         median_time(runs, empty_wheelhouse, ["env", "WHEELFERRY_WHEEL_CACHE=off", *build_cmd])),
        # As a second project needing the same sdists: each wheel from the wheel cache.
        ("wheelferry build (empty wheelhouse, wheel cache warm)",
         median_time(runs, empty_wheelhouse, build_cmd)),
        ("wheelferry build (nothing changed)", median_time(runs, nothing, build_cmd)),
    ]
    table.add(f"{name} set: build", "pip wheel -r LOCK (empty folder)", rows)

    # Verify against a plain offline install of the same wheelhouse.
    install = in_image(TARGET_IMAGE, project, "none", {}, [
        "sh", "-c", "python -m venv /tmp/v && /tmp/v/bin/pip install --quiet --no-index "
        "--find-links /p/wheelhouse --require-hashes -r /p/wheelhouse/wheelferry-requirements.txt"])
    verify_cmd = [WHEELFERRY, "verify", "--project", str(project)]
    rows = [
        ("plain offline install into a fresh venv", median_time(runs, nothing, install)),
        ("wheelferry verify (checks and a desktop start)", median_time(runs, nothing, verify_cmd)),
    ]
    table.add(f"{name} set: verify", "plain offline install into a fresh venv", rows)

    # Bundle against tar of the same wheelhouse.
    bundle_file = scratch / name / "bundle.sh"
    tar_file = scratch / name / "wheelhouse.tar"
    rows = [
        ("tar -cf", median_time(runs, nothing, ["tar", "-cf", str(tar_file), "-C",
                                                 str(project), "wheelhouse"])),
        ("wheelferry bundle", median_time(runs, nothing, [
            WHEELFERRY, "bundle", "--project", str(project), "--output", str(bundle_file)])),
    ]
    table.add(f"{name} set: bundle", "tar -cf", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--real", action="store_true",
                        help="also the real scientific set, from the public index")
    parser.add_argument("--pinned", action="store_true",
                        help="also locking a real set of exact 2023 pins (the old pins' era), "
                        "from the public index")
    args = parser.parse_args()
    table = Table(args.runs)
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        engine = DockerEngine.connect()
        ensure_toolchain(engine, scratch / "toolchain")
        base = engine.image(TARGET_IMAGE)
        assert base is not None
        toolchain = toolchain_reference(base)
        engine.close()
        root = build_index(scratch / "index", default_cache_dir())
        with serve_index(root) as url:
            bench_set(table, args.runs, scratch, "fixture", FIXTURE_SET, url, "host", None,
                      toolchain)
        if args.real:
            bench_set(table, args.runs, scratch, "real", REAL_SET, None, "bridge",
                      host_ca_bundle(), toolchain)
        if args.pinned:
            bench_lock(table, args.runs, scratch, "pinned", PINNED_SET, None, "bridge",
                       host_ca_bundle(), toolchain, pip_compile_too=False)
    table.print()


if __name__ == "__main__":
    main()
