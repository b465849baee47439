"""Runs in the toolchain image, for compile_locks.py: where the lock works (its scratch tree and
the folders of what sdists prepared without isolation import), and a resolver run with its output
shown for the host: pip-compile (taking each file's sha256 from the index) or uv's pip compile
with pip's settings.

Stdlib only.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

WORK = Path("/tmp/wheelferry-lock")
BUILD_REQUIRES = Path("/tmp/wheelferry-build-requires")
DATED_TOOLS = Path("/tmp/wheelferry-dated-build-requires")
SDISTS = Path("/tmp/wheelferry-lock-sdists")
# pip-compile taking each file's sha256 from the index instead of downloading it.
PIP_COMPILE = [sys.executable, str(Path(__file__).with_name("pip_compile_index_hashes.py"))]
UV = Path(sys.executable).parent / "uv"


def echo_run(cmd: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run, show the command and its output (the host reads it), and return both."""
    print("$ " + shlex.join(cmd), flush=True)
    lines = []
    with subprocess.Popen(cmd, cwd=WORK, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    return process.returncode, "".join(lines)


def set_pythonpath(env: dict[str, str]) -> None:
    """What sdists prepared without isolation import: the tools of an old sdist's day first."""
    env["PYTHONPATH"] = os.pathsep.join(
        str(folder) for folder in (DATED_TOOLS, BUILD_REQUIRES) if folder.is_dir())


def install_build_requires(requires: list[str], env: dict[str, str]) -> bool:
    shutil.rmtree(BUILD_REQUIRES, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(BUILD_REQUIRES),
           *requires]
    code, _ = echo_run(cmd, env)
    set_pythonpath(env)
    return code == 0


def compile_one(item: dict[str, str], plan: dict[str, object], constraints: list[str], *,
                isolated: bool, env: dict[str, str], resolver: str,
                verbose: bool = False) -> tuple[int, str]:
    upgrades: list[str] = ["--upgrade"] if plan["upgrade"] else []
    for name in plan["upgrade_packages"]:  # type: ignore[attr-defined]
        upgrades += ["--upgrade-package", name]
    if resolver == "uv":
        return echo_run(uv_command(item, constraints, upgrades), uv_environment(env))
    cmd = [
        *PIP_COMPILE, "--verbose" if verbose else "--quiet", "--generate-hashes",
        "--allow-unsafe", "--strip-extras",
        "--no-emit-index-url", "--no-emit-trusted-host", "--no-emit-find-links",
        "--output-file", item["out"], *([] if item.get("build") else constraints),
        item["in"], *upgrades,
    ]
    if not isolated:
        cmd.append("--no-build-isolation")
    return echo_run(cmd, env)


def uv_command(item: dict[str, str], constraints: list[str], upgrades: list[str]) -> list[str]:
    """uv's pip-compile, for this interpreter (the target's: its markers and tags), writing the
    same lock as pip-compile: pins with the hashes of every file of the version, annotations,
    extras stripped, no index options, setuptools and pip kept."""
    return [
        str(UV), "pip", "compile", "--quiet", "--generate-hashes", "--python", sys.executable,
        # pip's rule across several indexes (the best version from any), as the build's pip
        # downloads them; uv's own default stops at the first index that has the package.
        "--index-strategy", "unsafe-best-match",
        "--output-file", item["out"], *([] if item.get("build") else constraints),
        item["in"], *upgrades,
    ]


def uv_environment(env: dict[str, str]) -> dict[str, str]:
    """pip's settings in the container (indexes, certificates, cache) as uv reads them."""
    # No uv.toml of the container's user or folder counts: only wheelferry's settings.
    uv_env = dict(env, UV_CUSTOM_COMPILE_COMMAND="wheelferry lock", UV_NO_PROGRESS="1",
                  UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1")
    for pip_name, uv_name in (("PIP_INDEX_URL", "UV_INDEX_URL"),
                              ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL")):
        if env.get(pip_name):
            uv_env[uv_name] = env[pip_name]
    if env.get("PIP_CACHE_DIR"):
        uv_env["UV_CACHE_DIR"] = os.path.join(env["PIP_CACHE_DIR"], "uv")
    if env.get("PIP_CERT"):
        uv_env["SSL_CERT_FILE"] = env["PIP_CERT"]
    return uv_env
