"""Whole-process timings of `wheelferry build` against plain `pip wheel` in the same image.

Scenario: the test bed's fixture packages (five sdists, one a C extension, one legacy) served from
a local index, so the numbers do not depend on the public index. Each run is a separate process;
the report gives medians over --runs and the ratio to plain `pip wheel` (cold = fresh wheelhouse,
warm pip cache for both; rebuild = `wheelferry build` again with nothing changed).

    .venv/bin/python benchmarks/bench_build.py --runs 3
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.local_index import build_index, default_cache_dir, serve_index  # noqa: E402
from tests.support import ensure_toolchain, write_project  # noqa: E402

from wheelferry.engine import Engine  # noqa: E402

WHEELFERRY = Path(sys.executable).parent / "wheelferry"
REQUIREMENTS = "wferryfx-needs-pure\nwferryfx-cext\nwferryfx-pure\nwferryfx-tomlish\n"


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        engine = Engine.connect()
        ensure_toolchain(engine, scratch / "toolchain")
        engine.close()
        root = build_index(scratch / "index", default_cache_dir())
        with serve_index(root) as url:
            project = write_project(scratch / "project", {"base.in": REQUIREMENTS},
                                    **{"index-url": url, "network": "host", "ca-bundle": "none"})
            subprocess.run([str(WHEELFERRY), "build", "--project", str(project)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            lock = project / "requirements" / "base.txt"
            out = scratch / "pip-out"
            pip_wheel = [
                "docker", "run", "--rm", "--network", "host", "-e", "PIP_CONFIG_FILE=/dev/null",
                "-e", "PIP_DISABLE_PIP_VERSION_CHECK=1", "-e", f"PIP_INDEX_URL={url}",
                "-v", f"{lock}:/lock.txt:ro", "-v", f"{out}:/out", "python:3.10",
                "pip", "wheel", "--require-hashes", "--no-deps", "-r", "/lock.txt", "-w", "/out",
            ]
            timings: dict[str, list[float]] = {"pip wheel": [], "wheelferry build (cold)": [],
                                               "wheelferry build (no change)": []}
            for _ in range(args.runs):
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                timings["pip wheel"].append(timed(pip_wheel))
                shutil.rmtree(project / "wheelhouse", ignore_errors=True)
                build = [str(WHEELFERRY), "build", "--project", str(project)]
                timings["wheelferry build (cold)"].append(timed(build))
                timings["wheelferry build (no change)"].append(timed(build))
    baseline = statistics.median(timings["pip wheel"])
    print(f"{'scenario':32} {'median s':>9} {'ratio':>7}   (runs: {args.runs})")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:32} {median:9.2f} {median / baseline:7.2f}")


if __name__ == "__main__":
    main()
