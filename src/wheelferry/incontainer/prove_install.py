"""Runs in a fresh container of the plain target image, networking off, as a non-root user:
install the wheelhouse offline exactly as the platform will, then `pip check`, then import the
top-level modules of every distribution that came from the wheelhouse.

Prints one line `WHEELFERRY-PROOF <json>` with what failed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

WHEELHOUSE = Path("/wheelhouse")
JOB = Path("/job/job.json")
VENV = Path("/tmp/wheelferry-proof")
PYTHON = VENV / "bin" / "python"

LIST_MODULES = r"""
import importlib.metadata as md, json, sys
wanted = set(json.loads(sys.argv[1]))
found = {}
for dist in md.distributions():
    name = dist.metadata["Name"]
    key = name.lower().replace("_", "-").replace(".", "-")
    if key not in wanted:
        continue
    top = (dist.read_text("top_level.txt") or "").split()
    if not top:
        for path in dist.files or []:
            parts = path.parts
            if not parts or parts[0].endswith((".dist-info", ".data")) or parts[0] == "..":
                continue
            if len(parts) == 1:
                stem = parts[0].split(".")[0]
                if parts[0].endswith((".py", ".so", ".pyd")):
                    top.append(stem)
            elif parts[-1] == "__init__.py" and len(parts) == 2:
                top.append(parts[0])
    found[key] = sorted({t for t in top if t and not t.startswith("__")})
print(json.dumps(found))
"""


def run(cmd: list[str]) -> tuple[int, str]:
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return done.returncode, done.stdout


def main() -> int:
    job = json.loads(JOB.read_text())
    report: dict[str, object] = {"install": None, "check": None, "imports": []}
    venv.create(VENV, with_pip=True)
    code, output = run([str(PYTHON), "-m", "pip", "install", "--no-index", "--find-links",
                        str(WHEELHOUSE), "--require-hashes", "--only-binary", ":all:",
                        "--no-warn-script-location", "-r", str(WHEELHOUSE / job["requirements"])])
    print(output, flush=True)
    if code != 0:
        report["install"] = output[-4000:]
        print("WHEELFERRY-PROOF " + json.dumps(report), flush=True)
        return 1
    code, output = run([str(PYTHON), "-m", "pip", "check"])
    print("$ pip check\n" + output, flush=True)
    if code != 0:
        report["check"] = output.strip()
    code, output = run([str(PYTHON), "-c", LIST_MODULES, json.dumps(job["names"])])
    modules = json.loads(output) if code == 0 else {}
    skip = set(job["skip"])
    failures = []
    for dist, names in sorted(modules.items()):
        for module in names:
            if module in skip:
                continue
            code, output = run([str(PYTHON), "-c", f"import {module}"])
            status = "ok" if code == 0 else "FAILED"
            print(f"$ import {module}  ({dist}): {status}", flush=True)
            if code != 0:
                last = [line for line in output.strip().splitlines() if line.strip()]
                failures.append({"distribution": dist, "module": module,
                                 "error": last[-1] if last else f"exit code {code}"})
    report["imports"] = failures
    report["imported"] = sum(len(v) for v in modules.values())
    print("WHEELFERRY-PROOF " + json.dumps(report), flush=True)
    return 0 if not failures and not report["check"] else 1


if __name__ == "__main__":
    sys.exit(main())
