"""Runs in the toolchain image: compile the planned .in files with pip-compile, for this
interpreter (the target's), and copy the locks to /out.

The inputs (copied by the host into /out/inputs with the project's layout) are copied to a
scratch tree, so that a later .in that constrains itself with an earlier lock (`-c base.txt`)
sees the lock made in this run.

An sdist whose setup.py imports a module it does not declare (numpy, typically) fails to prepare
its metadata under build isolation. Such a failure is recognised, the module's distribution is
installed for metadata preparation, and the lock is retried without isolation; the result names
what was found, so that the host records it and builds that sdist with it, hash-checked.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

OUT = Path("/out")
WORK = Path("/tmp/wheelferry-lock")
BUILD_REQUIRES = Path("/tmp/wheelferry-build-requires")
PIP_COMPILE = Path(sys.executable).parent / "pip-compile"
MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")
FAILED_TO_BUILD = re.compile(r"Failed to build '([^']+)'")
# Modules published under another distribution name; any other module is looked up by its own.
MODULE_DISTRIBUTIONS = {
    "cv2": "opencv-python-headless", "PIL": "pillow", "sklearn": "scikit-learn",
    "skimage": "scikit-image", "skbuild": "scikit-build", "yaml": "pyyaml",
    "pkg_resources": "setuptools", "Cython": "cython", "google": "protobuf",
}
MAX_DISCOVERIES = 5


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


def undeclared_build_import(output: str) -> tuple[str, str, str] | None:
    """(sdist, module, distribution) when an sdist's build step failed on a missing module."""
    modules = MISSING_MODULE.findall(output)
    packages = FAILED_TO_BUILD.findall(output)
    if not modules or not packages:
        return None
    module = modules[-1].split(".")[0]
    distribution = MODULE_DISTRIBUTIONS.get(module, module)
    return packages[-1], module, re.sub(r"[-_.]+", "-", distribution).lower()


def install_build_requires(requires: list[str], env: dict[str, str]) -> bool:
    shutil.rmtree(BUILD_REQUIRES, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(BUILD_REQUIRES),
           *requires]
    code, _ = echo_run(cmd, env)
    env["PYTHONPATH"] = str(BUILD_REQUIRES)
    return code == 0


def main() -> int:
    plan = json.loads((OUT / "plan.json").read_text())
    # The host copied exactly the files resolution reads, in the project's layout.
    shutil.copytree(OUT / "inputs", WORK, dirs_exist_ok=True)
    env = dict(os.environ, CUSTOM_COMPILE_COMMAND="wheelferry lock")
    # What the platform provides, as constraints on the project's locks: pins then agree with
    # the platform. Not on build requirements: they are installed in the build image, never on
    # the platform (the build lock is constrained by the project's locks instead).
    constraints = ["--constraint", plan["constraints"]] if plan.get("constraints") else []
    build_requires: list[str] = list(plan["build_requires"])
    # Sdists whose setup.py imports undeclared modules get their metadata prepared without
    # isolation, with these importable (pip cannot isolate per package).
    discovered: dict[str, list[str]] = {k: list(v) for k, v in plan.get("discovered", {}).items()}
    if build_requires and not install_build_requires(build_requires, env):
        write_result({"ok": False, "failed": "build-requires", "discovered": discovered})
        return 1
    for item in plan["files"]:
        for _ in range(MAX_DISCOVERIES):
            code, output = compile_one(item, plan, constraints, build_requires, env)
            if code == 0:
                break
            found = undeclared_build_import(output)
            if found is None or found[2] in build_requires:
                write_result({"ok": False, "failed": item["in"], "discovered": discovered})
                return 1
            package, module, distribution = found
            print(f"==> {package}: its setup.py imports {module!r} without declaring it; "
                  f"retrying with {distribution} importable and no build isolation", flush=True)
            discovered.setdefault(package, []).append(distribution)
            build_requires = sorted({*build_requires, "setuptools", "wheel", distribution})
            if not install_build_requires(build_requires, env):
                write_result({"ok": False, "failed": "build-requires", "discovered": discovered})
                return 1
        else:
            write_result({"ok": False, "failed": item["in"], "discovered": discovered})
            return 1
        copy_out(item["out"])
    build = plan.get("build_lock")
    if build and build_requires:
        # The build requirements (the overrides' and what was found), locked with hashes too,
        # constrained by the project's locks: one the project pins gets exactly that version.
        out = Path(build["out"])
        source = out.with_name(".wheelferry-build.in")
        lines = [*build_requires]
        lines += [f"-c {os.path.relpath(WORK / c, WORK / out.parent)}"
                  for c in build["constraints"]]
        (WORK / source).write_text("".join(f"{line}\n" for line in lines))
        item = {"in": str(source), "out": str(out), "build": True}
        code, _ = compile_one(item, plan, constraints, build_requires, env)
        if code != 0:
            write_result({"ok": False, "failed": item["in"], "discovered": discovered})
            return 1
        copy_out(item["out"])
    write_result({"ok": True, "discovered": discovered, "build_lock": bool(build_requires)})
    return 0


def compile_one(item: dict[str, str], plan: dict[str, object], constraints: list[str],
                build_requires: list[str], env: dict[str, str]) -> tuple[int, str]:
    cmd = [
        str(PIP_COMPILE), "--quiet", "--generate-hashes", "--allow-unsafe", "--strip-extras",
        "--no-emit-index-url", "--no-emit-trusted-host", "--no-emit-find-links",
        "--output-file", item["out"], *([] if item.get("build") else constraints),
        item["in"],
    ]
    if plan["upgrade"]:
        cmd.append("--upgrade")
    for name in plan["upgrade_packages"]:  # type: ignore[attr-defined]
        cmd += ["--upgrade-package", name]
    if build_requires:
        cmd.append("--no-build-isolation")
    return echo_run(cmd, env)


def copy_out(relative: str) -> None:
    target = OUT / "locks" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(WORK / relative, target)


def write_result(result: dict[str, object]) -> None:
    (OUT / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
