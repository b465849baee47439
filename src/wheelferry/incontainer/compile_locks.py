"""Runs in the toolchain image: compile the planned .in files with pip-compile, for this
interpreter (the target's), and copy the locks to /out.

The inputs (copied by the host into /out/inputs with the project's layout) are copied to a
scratch tree, so that a later .in that constrains itself with an earlier lock (`-c base.txt`)
sees the lock made in this run.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

OUT = Path("/out")
WORK = Path("/tmp/wheelferry-lock")
BUILD_REQUIRES = Path("/tmp/wheelferry-build-requires")
PIP_COMPILE = Path(sys.executable).parent / "pip-compile"


def echo_run(cmd: list[str], env: dict[str, str]) -> int:
    print("$ " + shlex.join(cmd), flush=True)
    return subprocess.call(cmd, cwd=WORK, env=env)


def main() -> int:
    plan = json.loads((OUT / "plan.json").read_text())
    # The host copied exactly the files resolution reads, in the project's layout.
    shutil.copytree(OUT / "inputs", WORK, dirs_exist_ok=True)
    env = dict(os.environ, CUSTOM_COMPILE_COMMAND="wheelferry lock")
    # What the platform provides, as constraints on the project's locks: pins then agree with
    # the platform. Not on build requirements: they are installed in the build image, never on
    # the platform (the build lock is constrained by the project's locks instead).
    constraints = ["--constraint", plan["constraints"]] if plan.get("constraints") else []
    if plan["build_requires"]:
        # Sdists whose setup.py imports undeclared modules (numpy, ...) get their metadata
        # prepared without isolation, with these importable.
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--target",
               str(BUILD_REQUIRES), *plan["build_requires"]]
        if echo_run(cmd, env) != 0:
            write_result({"ok": False, "failed": "build-requires"})
            return 1
        env["PYTHONPATH"] = str(BUILD_REQUIRES)
    items = list(plan["files"])
    build = plan.get("build_lock")
    if build:
        # The overrides' build requirements, locked with hashes too, constrained by the
        # project's locks: a build requirement the project pins gets exactly that version.
        out = Path(build["out"])
        source = out.with_name(".wheelferry-build.in")
        lines = [*plan["build_requires"]]
        lines += [f"-c {os.path.relpath(WORK / c, WORK / out.parent)}"
                  for c in build["constraints"]]
        (WORK / source).write_text("".join(f"{line}\n" for line in lines))
        items.append({"in": str(source), "out": str(out), "build": True})
    for item in items:
        cmd = [
            str(PIP_COMPILE), "--quiet", "--generate-hashes", "--allow-unsafe", "--strip-extras",
            "--no-emit-index-url", "--no-emit-trusted-host", "--no-emit-find-links",
            "--output-file", item["out"], *([] if item.get("build") else constraints),
            item["in"],
        ]
        if plan["upgrade"]:
            cmd.append("--upgrade")
        for name in plan["upgrade_packages"]:
            cmd += ["--upgrade-package", name]
        if plan["build_requires"]:
            cmd.append("--no-build-isolation")
        if echo_run(cmd, env) != 0:
            write_result({"ok": False, "failed": item["in"]})
            return 1
        target = OUT / "locks" / item["out"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(WORK / item["out"], target)
    write_result({"ok": True})
    return 0


def write_result(result: dict[str, object]) -> None:
    (OUT / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
