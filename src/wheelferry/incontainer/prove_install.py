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
import importlib.machinery, importlib.metadata as md, json, sys
wanted = set(json.loads(sys.argv[1]))
suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
found = {}
for dist in md.distributions():
    key = dist.metadata["Name"].lower().replace("_", "-").replace(".", "-")
    if key not in wanted:
        continue
    top = (dist.read_text("top_level.txt") or "").split()
    extensions = []
    for path in dist.files or []:
        parts = path.parts
        if not parts or parts[0].endswith((".dist-info", ".data")) or parts[0] == "..":
            continue
        name = parts[-1]
        if len(parts) == 1 and name.endswith(".py"):
            top.append(name[:-3])
        elif len(parts) == 2 and name == "__init__.py":
            top.append(parts[0])
        suffix = next((s for s in suffixes if name.endswith(s)), None)
        if suffix:
            dotted = [*parts[:-1], name[: -len(suffix)]]
            # Compiled modules only; shared libraries vendored in "pkg.libs" are not modules.
            if all(p.isidentifier() for p in dotted):
                extensions.append(".".join(dotted))
                if len(dotted) == 1:
                    top.append(dotted[0])
    top = sorted({t for t in top if t and not t.startswith("__")})
    found[key] = top + sorted(set(extensions) - set(top))
print(json.dumps(found))
"""

# Imports each module named on the command line; prints JSON {module: error} for the failures.
IMPORT_EACH = r"""
import importlib, json, sys
failed = {}
for module in sys.argv[1:]:
    try:
        importlib.import_module(module)
    except BaseException as exc:
        failed[module] = f"{type(exc).__name__}: {exc}".strip()[:500]
print(json.dumps(failed))
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
    if code != 0:
        report["imports"] = [{"distribution": "(all)", "module": "(listing modules)",
                              "error": output.strip()[-1000:]}]
        print("WHEELFERRY-PROOF " + json.dumps(report), flush=True)
        return 1
    modules = json.loads(output)
    skip = set(job["skip"])
    failures = []
    for dist, names in sorted(modules.items()):
        # A skipped module skips its submodules too.
        chosen = [m for m in names
                  if not any(m == s or m.startswith(s + ".") for s in skip)]
        if not chosen:
            continue
        code, output = run([str(PYTHON), "-c", IMPORT_EACH, *chosen])
        lines = output.strip().splitlines()
        try:
            failed = json.loads(lines[-1]) if lines else None
        except ValueError:
            failed = None
        if failed is None:  # the interpreter itself died (a crash in an extension)
            failed = {chosen[0]: f"the import crashed (exit code {code}): "
                      + (lines[-1] if lines else "")}
        for module in chosen:
            status = "FAILED" if module in failed else "ok"
            # Top-level modules and failures are shown; compiled submodules only when verbose.
            mark = "$" if "." not in module or module in failed else " "
            print(f"{mark} import {module}  ({dist}): {status}", flush=True)
        for module, error in failed.items():
            failures.append({"distribution": dist, "module": module, "error": error})
    report["imports"] = failures
    report["imported"] = sum(len(v) for v in modules.values())
    print("WHEELFERRY-PROOF " + json.dumps(report), flush=True)
    return 0 if not failures and not report["check"] else 1


if __name__ == "__main__":
    sys.exit(main())
