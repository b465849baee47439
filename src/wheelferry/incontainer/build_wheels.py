"""Runs in the toolchain image: fetch every planned pin in hash-checking mode and build the
sdists into wheels for this interpreter (the target's), several at a time (pip builds one at a
time: pip #8708).

Input /out/job.json; output: wheels in /out/wheels, a log per package in /out/logs, and
/out/result.json describing each package (downloaded wheel, or wheel built from which sdist).

An sdist that fails to build (in isolation, with its build requirements at their newest) is
retried: with what its build imports undeclared (found round after round, the lock's versions),
else with the build tools of its release date (planned by release_dates.py from the index's
JSON simple API and upload times, PEP 691/700), installed hash-checked. What was found and the
versions used are reported ("discovered", "dated_build_requires").

Stdlib only, besides `packaging` (in the toolchain's venv; pip vendors it otherwise) and a TOML
parser (tomllib, else tomli or pip's vendored copy) for an sdist's pyproject.toml.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
import traceback
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wheelferry.everywhere import checksums
    from wheelferry.incontainer import (
        build_retries,
        build_steps,
        declared_requires,
        fetch_pins,
        graft_libraries,
        messages,
        pin_download,
        published_files,
        system_needs,
    )
else:
    try:  # in the container, the scripts (and everywhere/'s modules) sit side by side
        import build_retries
        import build_steps
        import checksums
        import declared_requires
        import fetch_pins
        import graft_libraries
        import messages
        import pin_download
        import published_files
        import system_needs
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.everywhere import checksums
        from wheelferry.incontainer import (
            build_retries,
            build_steps,
            declared_requires,
            fetch_pins,
            graft_libraries,
            messages,
            pin_download,
            published_files,
            system_needs,
        )

OUT = Path("/out")
SCRATCH, PIP, BUILD_OUTPUT = build_steps.SCRATCH, build_steps.PIP, build_steps.BUILD_OUTPUT
Failed, run, say, note = build_steps.Failed, build_steps.run, build_steps.say, build_steps.note
attempt, last_attempt = build_steps.attempt, build_steps.last_attempt
locked_version, retry_build = build_steps.locked_version, build_retries.retry_build
fetch, download_listed_sdist = pin_download.fetch, pin_download.download_listed_sdist
SDIST_SUFFIXES = pin_download.SDIST_SUFFIXES


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


def compiled_modules(wheel: Path) -> list[str]:
    """The compiled files a wheel holds."""
    with zipfile.ZipFile(wheel) as archive:
        return [name for name in archive.namelist() if name.endswith((".so", ".pyd"))]


def process(pin: dict[str, Any], base_env: dict[str, str],
            fetched: Path | None = None, locked: Mapping[str, str] | None = None,
            platform_libraries: Sequence[str] | None = None) -> messages.BuildReport:
    """Fetch (unless `fetched` already holds its file) and build one pin; a wheel built from its
    sdist carries the libraries it links that the platform (`platform_libraries`, its sonames;
    None: unknown) lacks, and is compared with the release's published wheels."""
    name = pin["name"]
    work = SCRATCH / name
    download = work / "download"
    built = work / "built"
    for folder in (download, built):
        folder.mkdir(parents=True, exist_ok=True)
    log = OUT / "logs" / f"{name}.log"
    env = dict(base_env)
    result: messages.BuildReport = {"name": name, "ok": False, "build_requires": []}
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
        if fetched is None:
            note(f"{name}: fetching it")
        if fetched is not None:
            shutil.move(str(fetched), download / fetched.name)
            with log.open("a") as handle:
                handle.write(f"# wheelferry: {fetched.name} was fetched with other pins in one "
                             "pip process, hash-checked against the lock\n")
        elif override:
            try:
                run([*download_cmd, *isolation], log, env, "downloading it")
            except Failed:
                # What was found for it may not prepare its metadata (today's setuptools); the
                # sdist itself then comes from the listing, as for any pin.
                if "found" not in override or not download_listed_sdist(
                        name, pin["line"], download, log, env):
                    raise
        else:
            try:
                fetch(download_cmd, download, log, env)
            except Failed:
                if not download_listed_sdist(name, pin["line"], download, log, env):
                    raise
        files = sorted(download.iterdir())
        if len(files) != 1:
            raise Failed(f"downloading it (expected one file, got {[f.name for f in files]})")
        artifact = files[0]
        if artifact.name.endswith(".whl"):
            final = OUT / "wheels" / artifact.name
            shutil.move(str(artifact), final)
            result.update({"ok": True, "origin": "downloaded", "file": final.name})
            return result
        if not artifact.name.endswith(SDIST_SUFFIXES):
            raise Failed(f"downloading it (unexpected file {artifact.name})")
        result["sdist"] = {"file": artifact.name, "sha256": checksums.sha256_file(artifact)}
        note(f"{name}: building its wheel from {artifact.name}")
        attempt(log, "with today's build tools, in isolation" if not override else
                "with what earlier builds found it imports" if "found" in override else
                "with its configured build requirements")
        try:
            run([*PIP, "wheel", *BUILD_OUTPUT, "--no-deps", *isolation, "-w", str(built),
                 str(artifact)], log, env, "building its wheel")
        except Failed:
            # A configured override states the build environment: it is not second-guessed.
            # One found earlier is where the retry starts from.
            if override and "found" not in override:
                raise
            retry_build(name, artifact, work, built, log, env, locked or {}, result,
                        known=override["found"] if override else ())
        wheels = sorted(built.glob("*.whl"))
        if len(wheels) != 1:
            raise Failed("building its wheel (no single wheel came out)")
        lacking = system_needs.missing_system_part(last_attempt(log))
        unbuilt = published_files.missing_compiled(name, wheels[0], env, log)
        if unbuilt or (lacking is not None and not compiled_modules(wheels[0])):
            # It built all the same, without compiled modules its published wheels have, or with
            # nothing compiled while it lacked an OS part: a compiled part was left out. (A wheel
            # with compiled modules may have probed for optional headers on purpose.)
            result["left_out"] = {"kind": lacking.kind if lacking else "", "modules": unbuilt,
                                  "name": lacking.name if lacking else "",
                                  "package": lacking.package if lacking else ""}
        graft_env = dict(env, PATH=os.pathsep.join(
            [str(Path(sys.executable).parent), env.get("PATH", "")]))
        try:
            carried = graft_libraries.carry(wheels[0], work / "repaired", log, graft_env,
                                            platform_has=platform_libraries,
                                            always=bool(pin.get("graft")))
        except RuntimeError as exc:
            raise Failed(f"carrying its shared libraries into the wheel ({exc})") from exc
        if carried is not None:
            wheels, result["carried"] = [carried[0]], carried[1]
        final = OUT / "wheels" / wheels[0].name
        shutil.move(str(wheels[0]), final)
        result.update({"ok": True, "origin": "built", "file": final.name})
        hidden = declared_requires.hidden_requires(final)
        if hidden:
            result["hidden_requires"] = hidden
        if locked:
            # The resolver read the sdist's metadata; the built wheel may say more.
            gaps = declared_requires.unlocked_requires(
                final, {name: locked_version(line) for name, line in locked.items()})
            if gaps:
                result["unlocked_requires"] = gaps
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
    total = len(job["pins"])
    note(f"{total} package(s) to fetch, sdists to build, {jobs} at a time [0/{total}]")
    stopped = threading.Event()
    downloads = threading.Thread(target=build_steps.report_downloads, args=(stopped,), daemon=True)
    downloads.start()
    # Pins with no override are fetched in a few pip processes first; the rest, and the pins
    # of a batch that failed, one by one.
    plain = [pin for pin in job["pins"] if not pin.get("override")]
    if plain:
        note(f"fetching {len(plain)} pin(s) in a few pip processes")
    prefetched = fetch_pins.prefetch(plain, jobs, SCRATCH / "_prefetch", env)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        locked = {str(k): str(v) for k, v in job.get("locked", {}).items()}
        futures = [pool.submit(process, pin, env, prefetched.get(pin["name"]), locked,
                               job.get("platform_libraries")) for pin in job["pins"]]
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            state = result.get("origin", "FAILED") if result["ok"] else "FAILED"
            detail = result.get("file", result.get("step", ""))
            if result["ok"] and result.get("dated_build_date"):
                detail += f", with the build tools of {result['dated_build_date']}"
            say(f"==> {result['name']}: {state} {detail} ({result['seconds']} s) "
                f"[{len(results)}/{total}]")
    stopped.set()
    (OUT / "result.json").write_text(json.dumps({"packages": results}, indent=2))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
