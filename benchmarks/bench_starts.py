"""Whole-process timings of desktop and job starts on the platform replica (issue 19): what
init.sh's wheelferry block adds to a start, after one upload, against a bare start.

    .venv/bin/python benchmarks/bench_starts.py --runs 7

Each start is a whole `docker run` of the replica (tests/fixtures/platform_replica.py: the
provided stack installed as root, user chaimeleon, the entrypoint that runs
~/persistent-home/init.sh, then the job's command, here `true`), network off, with only a
persistent-home folder mounted, as on the platform. Scenarios, medians of --runs:
- a bare start: no init.sh;
- the first start after an upload: the block checks every file against SHA256SUMS and installs
  the wheelhouse once into persistent-home (the install removed before each run);
- every later start: the block links that install (one .pth file, console scripts) and checks
  the provided versions.
Wheelhouses: synthetic pure-Python wheels (incompressible data files, a few modules each), a
small one and a large one, so the cost of a later start is seen not to follow the size.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.local_index import build_index, default_cache_dir  # noqa: E402
from tests.fixtures.platform_replica import HOME, ensure_platform_image  # noqa: E402

from wheelferry.project import manifest as mf  # noqa: E402
from wheelferry.target import initscript  # noqa: E402

LABEL = "io.wheelferry=bench-starts"
SETS = {"small": (5, 200 * 1024), "large": (40, 5 * 1024 * 1024)}  # wheels, data bytes each


def wheel(folder: Path, index: int, data_size: int) -> Path:
    name, version = f"wfxbench_{index:03d}", "1.0"
    dist_info = f"{name}-{version}.dist-info"
    members = {f"{name}/__init__.py": b"from . import m0\n",
               f"{name}/data.bin": os.urandom(data_size),
               f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: "
                                        f"{version}\n".encode(),
               f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\n"
                                     b"Root-Is-Purelib: true\nTag: py3-none-any\n"}
    for module in range(20):
        members[f"{name}/m{module}.py"] = f"def f{module}(x):\n    return x + {module}\n".encode()
    lines = []
    for member, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{member},sha256={digest},{len(data)}")
    members[f"{dist_info}/RECORD"] = ("\n".join([*lines, f"{dist_info}/RECORD,,"]) + "\n").encode()
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def wheelhouse(folder: Path, wheels: int, data_size: int) -> int:
    """A wheelhouse laid out as `build` writes it; returns its size in bytes."""
    folder.mkdir(parents=True)
    requirements, sums = [], []
    for index in range(wheels):
        path = wheel(folder, index, data_size)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        requirements.append(f"{path.name.split('-')[0]}==1.0 --hash=sha256:{digest}")
        sums.append((path.name, digest))
    (folder / mf.REQUIREMENTS).write_text("\n".join(requirements) + "\n")
    (folder / mf.MANIFEST).write_text(json.dumps({"provided": {"wferryfx-buildhelper": "1.0"},
                                                  "provided_source": "bench"}))
    for name in mf.METADATA_FILES:
        sums.append((name, hashlib.sha256((folder / name).read_bytes()).hexdigest()))
    (folder / mf.SUMS).write_text(mf.sums_text(sorted(sums)))
    return sum(p.stat().st_size for p in folder.iterdir())


def start(image: str, persistent: Path) -> float:
    """One whole start, timed: docker run of the replica through its entrypoint."""
    began = time.perf_counter()
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", "--label", LABEL,
                           "-v", f"{persistent}:{HOME}/persistent-home", image, "true"],
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0 or "nothing installed" in done.stderr:
        raise SystemExit(f"the start failed:\n{done.stdout}{done.stderr}")
    return elapsed


def median(runs: int, image: str, persistent: Path, before: object = None) -> float:
    times = []
    for _ in range(runs):
        if callable(before):
            before()
        times.append(start(image, persistent))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="wheelferry-bench-starts-"))
    try:
        index = build_index(scratch / "index", default_cache_dir())
        image = ensure_platform_image(index / "packages")
        bare = scratch / "bare" / "persistent-home"
        bare.mkdir(parents=True)
        bare.chmod(0o777)
        rows = [("bare start (no init.sh)", median(args.runs, image, bare))]
        for name, (wheels, data_size) in SETS.items():
            persistent = scratch / name / "persistent-home"
            persistent.mkdir(parents=True)
            persistent.chmod(0o777)
            size = wheelhouse(persistent / "my-tools", wheels, data_size)
            initscript.write(persistent / "init.sh", install_dir="~/persistent-home/my-tools")
            installs = persistent / ".my-tools.wheelferry-installs"

            def fresh(installs: Path = installs, persistent: Path = persistent) -> None:
                shutil.rmtree(installs, ignore_errors=True)
                (persistent / ".my-tools.wheelferry-checked").unlink(missing_ok=True)

            label = f"{wheels} wheels, {size / 1024 / 1024:.1f} MiB"
            first = median(max(3, args.runs // 2), image, persistent, fresh)
            start(image, persistent)  # installed: every later start only links
            later = median(args.runs, image, persistent)
            rows += [(f"first start after the upload ({label}): installs once", first),
                     (f"every later start ({label}): links", later)]
        print(f"# {date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}, medians of {args.runs} whole starts")
        print("| start | median | over a bare start |")
        print("| --- | --- | --- |")
        for label, seconds in rows:
            print(f"| {label} | {seconds:.2f} s | {seconds - rows[0][1]:+.2f} s |")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
