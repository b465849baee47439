"""Whole-process timings of `wheelferry bundle` against `tar -cf` of the same wheelhouse.

Building a bundle is I/O-bound: it streams every file once into the output (checking each
against SHA256SUMS and hashing the payload on the way), so it should take no more than 1.5 times
what `tar -cf` takes. The wheelhouse is synthetic, shaped like a scientific stack's: wheels of
random bytes (incompressible, as zip files are) of 1 x 40%, 4 x 8%, 20 x 1% and 80 x 0.1% of
--size-mib, plus the manifest, the install requirements and SHA256SUMS. No engine is needed.
Each run is a separate process, reading a wheelhouse the page cache holds (for both) and
writing to the same disk, after a sync (so that no run pays for writing back the last one's
output); the report gives medians over --runs, the ratio to `tar -cf`, and the CPU time
(user and system) each process used: on a machine whose other core is busy, a bundle cannot
hash on one core while it copies on the other, and its time follows its CPU time. The last row
is the fixed cost of any wheelferry process (the interpreter and its imports), which a small
wheelhouse cannot amortize.

    .venv/bin/python benchmarks/bench_bundle.py --runs 5 --size-mib 1024
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import write_project  # noqa: E402

from wheelferry.project import manifest as mf  # noqa: E402

WHEELFERRY = Path(sys.executable).parent / "wheelferry"
SHAPE = ((1, 0.40), (4, 0.08), (20, 0.01), (80, 0.001))  # (how many wheels, share of the size)
TAGS = "py3-none-any"


def write_wheelhouse(folder: Path, size_mib: int) -> list[mf.WheelRecord]:
    """Wheels of random bytes in SHAPE, with the metadata wheelferry writes."""
    folder.mkdir(parents=True)
    records = []
    for group, (count, share) in enumerate(SHAPE):
        for index in range(count):
            name = f"pkg{group}x{index}"
            data = os.urandom(max(1024, int(size_mib * (1 << 20) * share)))
            file = f"{name}-1.0-{TAGS}.whl"
            (folder / file).write_bytes(data)
            records.append(mf.WheelRecord(
                name=name, version="1.0", file=file, sha256=hashlib.sha256(data).hexdigest(),
                size=len(data), origin="downloaded"))
    target = mf.TargetRecord(python="3.10", version="3.10.14", image="python:3.10",
                             image_id="sha256:" + "0" * 64, image_digest="", tags=(TAGS,))
    mf.write_metadata(folder, mf.Manifest(target=target, locks=(), wheels=tuple(records)))
    return records


def timed(command: list[str]) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds: user and system) of one run of command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=ROOT) as scratch_name:
        scratch = Path(scratch_name)
        project = write_project(scratch / "project", {"base.in": "pkg0x0\n"})
        records = write_wheelhouse(project / "wheelhouse", args.size_mib)
        # The platform's upload before one mid-sized wheel changed: a delta carries that one.
        changed = next(r for r in records if r.name == "pkg1x0")
        since = scratch / "since-SHA256SUMS"
        since.write_text(mf.sums_text([(r.file, "1" * 64 if r is changed else r.sha256)
                                       for r in records]))
        size = sum(p.stat().st_size for p in (project / "wheelhouse").iterdir())
        tar_out, bundle_out = scratch / "wheelhouse.tar", scratch / "wheelferry-bundle.sh"
        commands = {
            "tar -cf": ["tar", "-cf", str(tar_out), "-C", str(project), "wheelhouse"],
            "wheelferry bundle": [str(WHEELFERRY), "bundle", "-o", str(bundle_out),
                                  "-p", str(project)],
            "wheelferry bundle --since (1 wheel)": [
                str(WHEELFERRY), "bundle", "-o", str(bundle_out), "--since", str(since),
                "-p", str(project)],
            "wheelferry bundle --help (start-up)": [str(WHEELFERRY), "bundle", "--help"],
        }
        for command in commands.values():  # warm the page cache and the imports
            timed(command)
        load = os.getloadavg()
        timings: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                tar_out.unlink(missing_ok=True)
                bundle_out.unlink(missing_ok=True)
                os.sync()  # each run starts with nothing of the last one left to write back
                timings[name].append(timed(command))
    baseline = statistics.median(wall for wall, _ in timings["tar -cf"])
    print(f"wheelhouse: {len(records)} wheels, {size / (1 << 20):.0f} MiB; runs: {args.runs}; "
          f"load average before: {load[0]:.1f}")
    print(f"{'scenario':38} {'median s':>9} {'ratio':>7} {'CPU s':>7}")
    for name, values in timings.items():
        wall = statistics.median(wall for wall, _ in values)
        cpu = statistics.median(cpu for _, cpu in values)
        print(f"{name:38} {wall:9.2f} {wall / baseline:7.2f} {cpu:7.2f}")


if __name__ == "__main__":
    main()
