"""Runs in the toolchain image: fetch every planned pin in hash-checking mode and build the
sdists into wheels for this interpreter (the target's), several at a time (pip builds one at a
time: pip #8708).

Input /out/job.json; output: wheels in /out/wheels, a log per package in /out/logs, and
/out/result.json describing each package (downloaded wheel, or wheel built from which sdist).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

OUT = Path("/out")
SCRATCH = Path("/tmp/wheelferry-build")
PIP = [sys.executable, "-m", "pip"]
SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")


def sha256(path: Path) -> str:
    # Like wheelferry.wheelhouse.sha256_file: scripts in the container cannot import wheelferry.
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Failed(Exception):
    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


def run(cmd: list[str], log: Path, env: dict[str, str], step: str) -> None:
    with log.open("a") as handle:
        handle.write(f"$ {shlex.join(cmd)}\n")
        handle.flush()
        code = subprocess.call(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env,
                               cwd=SCRATCH)
    if code != 0:
        raise Failed(step)


def build_requires(pin: dict[str, Any], work: Path, log: Path, env: dict[str, str]) -> list[str]:
    """Install an override's build requirements where the build can import them. Those the lock
    pins are installed at the locked version, hash-checked: compiled code then matches the
    runtime shipped beside it. Returns what was installed, as name==version."""
    target = work / "build-requires"
    locked = pin["override"]["locked"]
    free = pin["override"]["unlocked"]
    if locked:
        requirement_file = work / "build-requires-locked.txt"
        requirement_file.write_text("\n".join(locked) + "\n")
        run([*PIP, "install", "--quiet", "--no-deps", "--require-hashes", "--target", str(target),
             "-r", str(requirement_file)], log, env, "installing its locked build requirements")
    if free:
        run([*PIP, "install", "--quiet", "--target", str(target), "--upgrade", *free], log, env,
            "installing its build requirements")
    installed = []
    for info in sorted(target.glob("*.dist-info")):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        installed.append(f"{name}=={version}")
    return installed


def fetch(cmd: list[str], download: Path, log: Path, env: dict[str, str]) -> None:
    """Download one pin. pip prepares an sdist's metadata even to download it; try that first
    with the toolchain's own setuptools (no isolated environment to set up, so an sdist is not
    set up twice), and fall back to isolation for sdists that need another build backend."""
    quick_log = log.with_suffix(".quick.log")
    try:
        run([*cmd, "--no-build-isolation"], quick_log, env, "downloading it")
        with log.open("a") as handle:
            handle.write(quick_log.read_text())
        return
    except Failed:
        shutil.rmtree(download, ignore_errors=True)
        download.mkdir(parents=True)
    finally:
        quick_log.unlink(missing_ok=True)
    run(cmd, log, env, "downloading it")


def process(pin: dict[str, Any], base_env: dict[str, str]) -> dict[str, Any]:
    name = pin["name"]
    work = SCRATCH / name
    download = work / "download"
    built = work / "built"
    for folder in (download, built):
        folder.mkdir(parents=True, exist_ok=True)
    log = OUT / "logs" / f"{name}.log"
    env = dict(base_env)
    result: dict[str, Any] = {"name": name, "ok": False, "build_requires": []}
    started = time.monotonic()
    try:
        override = pin.get("override")
        isolation: list[str] = []
        if override:
            result["build_requires"] = build_requires(pin, work, log, env)
            env["PYTHONPATH"] = str(work / "build-requires")
            if override["no_build_isolation"]:
                isolation = ["--no-build-isolation"]
        requirement_file = work / "pin.txt"
        requirement_file.write_text(pin["line"] + "\n")
        download_cmd = [*PIP, "download", "--no-deps", "--require-hashes", "-r",
                        str(requirement_file), "-d", str(download)]
        if override:
            run([*download_cmd, *isolation], log, env, "downloading it")
        else:
            fetch(download_cmd, download, log, env)
        files = sorted(download.iterdir())
        if len(files) != 1:
            raise Failed(f"downloading it (expected one file, got {[f.name for f in files]})")
        artifact = files[0]
        if artifact.name.endswith(".whl"):
            final = OUT / "wheels" / artifact.name
            shutil.move(str(artifact), final)
            result.update(ok=True, origin="downloaded", file=final.name)
            return result
        if not artifact.name.endswith(SDIST_SUFFIXES):
            raise Failed(f"downloading it (unexpected file {artifact.name})")
        result["sdist"] = {"file": artifact.name, "sha256": sha256(artifact)}
        run([*PIP, "wheel", "--no-deps", *isolation, "-w", str(built), str(artifact)], log, env,
            "building its wheel")
        wheels = sorted(built.glob("*.whl"))
        if len(wheels) != 1:
            raise Failed("building its wheel (no single wheel came out)")
        final = OUT / "wheels" / wheels[0].name
        shutil.move(str(wheels[0]), final)
        result.update(ok=True, origin="built", file=final.name)
    except Failed as failure:
        result["step"] = failure.step
    except Exception as exc:
        with log.open("a") as handle:
            handle.write(traceback.format_exc())
        result["step"] = f"processing it ({type(exc).__name__}: {exc})"
    finally:
        result["seconds"] = round(time.monotonic() - started, 1)
    return result


def main() -> int:
    job = json.loads((OUT / "job.json").read_text())
    (OUT / "wheels").mkdir(exist_ok=True)
    (OUT / "logs").mkdir(exist_ok=True)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    jobs = job.get("jobs") or os.cpu_count() or 1
    results = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(process, pin, env) for pin in job["pins"]]
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            state = result.get("origin", "FAILED") if result["ok"] else "FAILED"
            detail = result.get("file", result.get("step", ""))
            print(f"==> {result['name']}: {state} {detail} ({result['seconds']} s)", flush=True)
    (OUT / "result.json").write_text(json.dumps({"packages": results}, indent=2))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
