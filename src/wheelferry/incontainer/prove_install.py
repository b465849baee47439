"""Runs in a fresh container of the platform image (or the plain target image), network off, as
the platform's user: a desktop start, proven.

1. Baseline: which distributions the Python already has, and which of their top-level modules
   import, before anything is installed.
2. ~/persistent-home/init.sh, the generated one, run the way the platform runs it (bash).
3. Every shipped distribution installed at its version; `pip check` over the whole environment.
4. Every shipped distribution's top-level modules and compiled extension modules import.
5. The platform's own distributions still import: one that worked before init.sh and fails after
   it is broken by what was shipped.

Prints one line `WHEELFERRY-PROOF <json>` with what failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

JOB = Path("/job/job.json")
PYTHON = sys.executable

LIST_MODULES = r"""
import importlib.machinery, importlib.metadata as md, json, sys
wanted = set(json.loads(sys.argv[1])) if len(sys.argv) > 1 else None
extensions_too = len(sys.argv) > 2 and sys.argv[2] == "extensions"
suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
found = {}
for dist in md.distributions():
    name = dist.metadata["Name"] or ""
    key = name.lower().replace("_", "-").replace(".", "-")
    if not key or key in found or (wanted is not None and key not in wanted):
        continue
    top = (dist.read_text("top_level.txt") or "").split()
    extensions = []
    for path in dist.files or []:
        parts = path.parts
        if not parts or parts[0].endswith((".dist-info", ".data")) or parts[0] == "..":
            continue
        file = parts[-1]
        if len(parts) == 1 and file.endswith(".py"):
            top.append(file[:-3])
        elif len(parts) == 2 and file == "__init__.py":
            top.append(parts[0])
        suffix = next((s for s in suffixes if file.endswith(s)), None)
        if suffix:
            dotted = [*parts[:-1], file[: -len(suffix)]]
            # Compiled modules only; shared libraries vendored in "pkg.libs" are not modules.
            if all(p.isidentifier() for p in dotted):
                extensions.append(".".join(dotted))
                if len(dotted) == 1:
                    top.append(dotted[0])
    top = sorted({t for t in top if t and t.isidentifier() and not t.startswith("__")})
    compiled = sorted(set(extensions) - set(top)) if extensions_too else []
    found[key] = [dist.version, top + compiled]
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


def run(cmd: list[str], **kwargs: object) -> tuple[int, str]:
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          **kwargs)  # type: ignore[call-overload]
    return done.returncode, done.stdout


def listing(names: list[str] | None, *, extensions: bool) -> dict[str, tuple[str, list[str]]]:
    """canonical name -> (version, modules) of the installed distributions (`names` only)."""
    args = [json.dumps(names)] if names is not None else []
    if extensions:
        args = [json.dumps(names), "extensions"]
    code, output = run([PYTHON, "-c", LIST_MODULES, *args])
    if code != 0:
        raise RuntimeError(output.strip()[-1000:])
    found = json.loads(output.strip().splitlines()[-1])
    return {str(name): (str(version), [str(m) for m in modules])
            for name, (version, modules) in found.items()}


def import_failures(modules: list[str]) -> tuple[dict[str, str], int]:
    """{module: error} when importing each of `modules` in one fresh interpreter."""
    code, output = run([PYTHON, "-c", IMPORT_EACH, *modules])
    lines = output.strip().splitlines()
    try:
        return json.loads(lines[-1]) if lines else {}, code
    except ValueError:
        # The interpreter itself died (a crash in an extension).
        return {modules[0]: f"the import crashed (exit code {code}): "
                + (lines[-1] if lines else "")}, code


def skipped(module: str, skip: set[str]) -> bool:
    # A skipped module skips its submodules too.
    return any(module == s or module.startswith(s + ".") for s in skip)


def main() -> int:
    job = json.loads(JOB.read_text())
    shipped: dict[str, str] = job["shipped"]
    skip = set(job["skip"])
    report: dict[str, object] = {"init": None, "missing": [], "check": None, "imports": [],
                                 "broken": []}

    def finish(ok: bool) -> int:
        print("WHEELFERRY-PROOF " + json.dumps(report), flush=True)
        return 0 if ok else 1

    # 1. The platform before: what it has, and what of it imports.
    before = listing(None, extensions=False)
    baseline: dict[str, dict[str, str]] = {}
    for dist, (_, modules) in sorted(before.items()):
        chosen = [m for m in modules if not skipped(m, skip)]
        if chosen:
            baseline[dist] = import_failures(chosen)[0]

    # 2. A desktop start: the generated init.sh, as the platform runs it.
    init = Path(job["init_script"]).expanduser()
    shell = shutil.which("bash") or "sh"
    print(f"$ {shell} {init}", flush=True)
    code, output = run([shell, str(init)], cwd=os.path.expanduser("~"))
    print(output, end="", flush=True)
    after = listing(list(shipped), extensions=True)
    missing = [f"{name}=={version}" for name, version in sorted(shipped.items())
               if name not in after or after[name][0] != version]
    if missing:
        report["init"] = {"code": code, "output": output[-4000:]}
        report["missing"] = missing
        return finish(False)

    # 3. The whole environment's dependencies agree.
    code, output = run([PYTHON, "-m", "pip", "check"])
    print("$ pip check\n" + output, end="", flush=True)
    if code != 0 and "No module named pip" not in output:
        report["check"] = output.strip()

    # 4. What was shipped imports.
    failures = []
    for dist, (_, modules) in sorted(after.items()):
        chosen = [m for m in modules if not skipped(m, skip)]
        if not chosen:
            continue
        failed, _ = import_failures(chosen)
        for module in chosen:
            status = "FAILED" if module in failed else "ok"
            # Top-level modules and failures are shown; compiled submodules only when verbose.
            mark = "$" if "." not in module or module in failed else " "
            print(f"{mark} import {module}  ({dist}): {status}", flush=True)
        failures += [{"distribution": dist, "module": m, "error": e} for m, e in failed.items()]
    report["imports"] = failures
    report["imported"] = sum(len(v[1]) for v in after.values())

    # 5. What the platform had still imports.
    replaced = sorted(f"{name} {shipped[name]}" for name in shipped
                      if name in before and before[name][0] != shipped[name])
    broken = []
    for dist, was_failing in sorted(baseline.items()):
        if dist in shipped:
            continue
        modules = [m for m in before[dist][1] if not skipped(m, skip) and m not in was_failing]
        if not modules:
            continue
        failed, _ = import_failures(modules)
        for module, error in failed.items():
            print(f"$ import {module}  (the platform's {dist}): FAILED", flush=True)
            broken.append({"distribution": dist, "version": before[dist][0],
                           "module": module, "error": error, "replaced": replaced})
    report["broken"] = broken
    return finish(not failures and not report["check"] and not broken)


if __name__ == "__main__":
    sys.exit(main())
