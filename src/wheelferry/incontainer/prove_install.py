"""Runs in a fresh container of the platform image (or the plain target image), network off, as
the platform's user: a desktop start, proven.

1. Baseline: which distributions the Python already has, and which of their modules import,
   before anything is installed.
2. ~/persistent-home/init.sh, the generated one, run the way the platform runs it (bash): the
   first start installs into persistent-home; a later one (`start` > 1 in the job, a fresh
   container with the same persistent-home) must only link that install.
3. Every shipped distribution installed at its version; `pip check` over the whole environment.
4. Every shipped distribution's modules import (find_modules.py: top-level modules and packages,
   namespace packages descended to their first real packages, compiled extension modules), each
   isolated (import_modules.py: a crash names its own module, the others keep their verdicts).
5. The platform's own distributions still import: one that worked before init.sh and fails after
   it is broken by what was shipped.
6. Every shipped `.py` compiles for this Python (compile_shipped.py: in memory, nothing
   written), and the project's smoke test (`/job/smoke_test.py`) runs in the user's home.

Prints one line `WHEELFERRY-PROOF <json>` with what failed and the facts the host needs to judge
each failure (the environment's versions, which distribution provides which module, the shared
libraries the shipped wheels carry, the extras each failing distribution declares).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the types only: the script runs alone in the platform's Python
    from wheelferry.incontainer import messages

JOB = Path("/job/job.json")
PYTHON = sys.executable
HERE = Path(__file__).resolve().parent
SMOKE_TIMEOUT = 900


def run(cmd: list[str], **kwargs: Any) -> tuple[int, str]:
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace", **kwargs)
    return done.returncode, done.stdout


def _json_line(cmd: list[str]) -> Any:
    """The last line of a helper script's output, as JSON (its stderr passes through)."""
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, errors="replace", check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed (exit code {done.returncode})")
    return json.loads(lines[-1])


def listing(names: list[str] | None = None) -> dict[str, messages.ModulesReport]:
    """find_modules.py in a fresh interpreter (init.sh may have created the user site)."""
    found: dict[str, messages.ModulesReport] = _json_line(
        [PYTHON, str(HERE / "find_modules.py"), json.dumps(names)])
    return found


def import_groups(groups: list[list[str]], python: str = PYTHON
                  ) -> list[dict[str, messages.ImportErrorReport | None]]:
    """import_modules.py over each group (one distribution's modules), isolated."""
    if not any(groups):
        return [{} for _ in groups]
    found: list[dict[str, messages.ImportErrorReport | None]] = _json_line(
        [PYTHON, str(HERE / "import_modules.py"), python, json.dumps(groups)])
    return found


def describe(error: messages.ImportErrorReport) -> str:
    """An import's error in one line: its type and message (a crash: how it died)."""
    first = (str(error.get("message") or "").splitlines() or [""])[0][:300]
    return first if error["type"] == "crash" else f"{error['type']}: {first}".strip()


def show(module: str, owner: str, error: messages.ImportErrorReport | None, *, top: bool) -> None:
    """One line per import: top-level ones and failures are echoed, the rest shown verbose."""
    status = "ok" if error is None else f"did not import: {describe(error)}"
    mark = "$" if top or error is not None else " "
    print(f"{mark} import {module}  ({owner}): {status}", flush=True)


def open_up(folder: Path) -> None:
    """What the start wrote into persistent-home (the install), removable by whoever runs
    wheelferry on the host, whose uid the platform's user need not have."""
    if sys.platform == "win32":  # containers are Linux; the guard is for type checkers
        return
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            try:
                if not os.path.islink(path) and os.stat(path).st_uid == os.getuid():
                    os.chmod(path, 0o777 if name in dirs else 0o666)
            except OSError:
                pass


def skipped(module: str, skip: set[str]) -> bool:
    # A skipped module skips its submodules too.
    return any(module == s or module.startswith(s + ".") for s in skip)


def prove(job: dict[str, Any]) -> int:
    shipped: dict[str, str] = job["shipped"]
    skip = set(job["skip"])
    report: messages.ProofReport = {"init": None, "missing": [], "check": None, "imports": [],
                                    "tried": {}, "broken": []}

    def finish(ok: bool) -> int:
        print("WHEELFERRY-PROOF " + json.dumps(report), flush=True)
        open_up(Path("~/persistent-home").expanduser())
        return 0 if ok else 1

    # 1. The platform before: what it has, and what of it imports.
    before = listing()
    chosen = {dist: [m for m in info["top"] if not skipped(m, skip)]
              for dist, info in sorted(before.items())}
    verdicts = dict(zip(chosen, import_groups(list(chosen.values()))))  # noqa: B905 (3.8+)
    baseline = {dist: {m for m, e in verdicts[dist].items() if e is not None} for dist in chosen}

    # 2. A desktop start: the generated init.sh, as the platform runs it.
    init = Path(job["init_script"]).expanduser()
    shell = shutil.which("bash") or "sh"
    print(f"$ {shell} {init}", flush=True)
    code, output = run([shell, str(init)], cwd=os.path.expanduser("~"))
    print(output, end="", flush=True)
    if job.get("start", 1) > 1 and ("nothing to install" not in output
                                    or "installing the wheelhouse" in output):
        # A later start links what the first installed into persistent-home: no pip, no wheel.
        report["reinstalled"] = output[-4000:]
    after = listing()
    missing = [f"{name}=={version}" for name, version in sorted(shipped.items())
               if name not in after or after[name]["version"] != version]
    if missing:
        report["init"] = {"code": code, "output": output[-4000:]}
        report["missing"] = missing
        return finish(False)

    # 3. The whole environment's dependencies agree.
    code, output = run([PYTHON, "-m", "pip", "check"])
    print("$ pip check\n" + output, end="", flush=True)
    if code != 0 and "No module named pip" not in output:
        report["check"] = output.strip()

    # 4. What was shipped imports, with the facts the host needs to judge each failure.
    stdlib = set(getattr(sys, "stdlib_module_names", ()))
    failures: list[messages.ImportFailureReport] = []
    tops = {d: [m for m in after[d]["top"] if not skipped(m, skip)] for d in sorted(shipped)}
    report["tried"] = {d: tops[d] + [m for m in after[d]["compiled"] if not skipped(m, skip)]
                       for d in sorted(shipped)}
    results = import_groups(list(report["tried"].values()))
    for index, (dist, tried) in enumerate(report["tried"].items()):
        for module in tried:
            error = results[index][module]
            show(module, dist, error, top=module in tops[dist])
            if error is not None:
                gone = str(error.get("missing") or "").split(".")[0]
                failures.append({**error, "distribution": dist, "module": module,
                                 "top": module in tops[dist],
                                 "stdlib": bool(gone) and gone in stdlib})
    report["imports"] = failures
    report["imported"] = sum(len(modules) for modules in report["tried"].values())
    report["environment"] = {d: info["version"] for d, info in sorted(after.items())}
    report["providers"] = {m.split(".")[0]: d for d, info in sorted(after.items())
                           for m in info["top"] + info["compiled"]}
    report["libraries"] = {lib: d for d in sorted(shipped) for lib in after[d]["libraries"]}
    report["extras"] = {f["distribution"]: after[f["distribution"]]["extras"] for f in failures}

    # 5. What the platform had still imports.
    replaced = sorted(f"{name} {shipped[name]}" for name in shipped
                      if name in before and before[name]["version"] != shipped[name])
    broken: list[messages.BrokenReport] = []
    again = {dist: [m for m in before[dist]["top"] if not skipped(m, skip) and m not in failing]
             for dist, failing in sorted(baseline.items()) if dist not in shipped}
    results = import_groups(list(again.values()))
    for index, (dist, modules) in enumerate(again.items()):
        for module in modules:
            error = results[index][module]
            if error is None:
                continue
            print(f"$ import {module}  (the platform's {dist}): did not import", flush=True)
            broken.append({"distribution": dist, "version": before[dist]["version"],
                           "module": module, "replaced": replaced,
                           "error": describe(error)})
    report["broken"] = broken

    # 6. Every shipped .py compiles for this Python (the first start: the files are the same
    # later), and the project's smoke test runs, like the user's first call.
    if job.get("start", 1) == 1:
        report["python"] = "{}.{}".format(*sys.version_info[:2])
        report["syntax"] = compile_shipped(sorted(shipped))
    if job.get("smoke_test"):
        report["smoke"] = smoke_test(str(job["smoke_test"]))
    syntax_errors = any(not e["aside"] for d in report.get("syntax", {}).values()
                        for e in d["errors"])
    return finish(not failures and not report["check"] and not broken and not syntax_errors
                  and not ("smoke" in report and report["smoke"]["code"]))


def compile_shipped(names: list[str]) -> dict[str, messages.CompiledReport]:
    """compile_shipped.py in a fresh interpreter: each distribution's files that do not
    compile."""
    found: dict[str, messages.CompiledReport] = _json_line(
        [PYTHON, str(HERE / "compile_shipped.py"), json.dumps(names)])
    for dist, result in sorted(found.items()):
        for error in result["errors"]:
            print(f"$ compile {error['file']}  ({dist}): line {error['line']}: "
                  f"{error['message']}", flush=True)
    print(f"$ compile: {sum(r['compiled'] for r in found.values())} file(s) of "
          f"{len(found)} distribution(s)", flush=True)
    return found


def smoke_test(path: str) -> messages.SmokeReport:
    """The project's smoke test, in the user's home, as a user's first call would run."""
    print(f"$ python smoke-test ({path})", flush=True)
    try:
        code, output = run([PYTHON, path], cwd=os.path.expanduser("~"), timeout=SMOKE_TIMEOUT,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as error:
        out = error.output or ""
        code, output = -1, (out if isinstance(out, str) else out.decode(errors="replace")) + (
            f"\n(stopped after {SMOKE_TIMEOUT} s)")
    print(output, end="" if output.endswith("\n") or not output else "\n", flush=True)
    print(f"$ smoke-test: exit code {code}", flush=True)
    return {"code": code, "output": output[-4000:]}


if __name__ == "__main__":
    sys.exit(prove(json.loads(JOB.read_text())))
