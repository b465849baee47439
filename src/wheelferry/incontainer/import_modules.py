"""Imports modules, each isolated (runs in the containers, standard library only).

`python3 import_modules.py PYTHON '[["a", "a.b"], ["c"]]'` imports each group's modules with the
interpreter PYTHON, in order, in one fresh interpreter per group (a distribution's modules),
as many groups at once as the container has CPUs (each in its own interpreter, so a crash still
names its own group's module);
each module that failed, crashed or hung there is imported again alone in another, and that
verdict is the one kept. So a crash names its own module and the others keep their verdicts.
Prints one JSON line, a list with one object per group: module -> null (imported) or its error
{type, message, missing (the module a ModuleNotFoundError in the chain names), output (the end
of what the lone import wrote to stderr)}; a crash, hang or exit is type "crash".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the types only: the script runs alone in the image's Python
    from wheelferry.incontainer import messages

BATCH_TIMEOUT = 600
ALONE_TIMEOUT = 180

# Imports the modules named on the command line, in order. Verdicts go to the saved stdout (the
# modules' own prints go to stderr): "> M" before a module, "= [M, error or null]" after it. It
# leaves with os._exit: threads or exit handlers a module started cannot keep it alive.
IMPORT_EACH = r"""
import importlib, json, os, sys
out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
for module in sys.argv[1:]:
    out.write("> " + module + "\n"); out.flush()
    error = None
    try:
        importlib.import_module(module)
    except BaseException as exc:
        missing, seen = None, exc
        for _ in range(6):
            if seen is None or isinstance(seen, ModuleNotFoundError):
                break
            seen = seen.__cause__ or seen.__context__
        if isinstance(seen, ModuleNotFoundError):
            missing = seen.name
        try:
            message = str(exc)[:1000]
        except BaseException:
            message = "(the error cannot be shown)"
        error = {"type": type(exc).__name__, "message": message, "missing": missing}
    out.write("= " + json.dumps([module, error]) + "\n"); out.flush()
os._exit(0)
"""


def _batch(modules: list[str], python: str, timeout: float
           ) -> tuple[dict[str, messages.ImportErrorReport | None], str | None,
                      messages.ImportErrorReport | None, str]:
    """Import `modules` in order in one interpreter: the verdicts it gave, the module it was
    importing when it died (None: it finished), how it died, and what it wrote to stderr."""
    code: int | None
    try:
        # faulthandler: a crash leaves its Python traceback on stderr.
        done = subprocess.run([python, "-X", "faulthandler", "-c", IMPORT_EACH, *modules],
                              capture_output=True, text=True, timeout=timeout, errors="replace")
        out, err, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        out, err, code = _text(exc.stdout), _text(exc.stderr), None
    verdicts: dict[str, messages.ImportErrorReport | None] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("> "):
            current = line[2:]
        elif line.startswith("= "):
            module, error = json.loads(line[2:])
            verdicts[module] = error
            current = None
    if current is None and len(verdicts) == len(modules):
        return verdicts, None, None, err
    if current is None:
        current = next(m for m in modules if m not in verdicts)
    if code is None:
        why = f"the import did not finish within {timeout:.0f} s"
    elif code < 0:
        try:
            why = f"the import crashed the interpreter ({signal.Signals(-code).name})"
        except ValueError:
            why = f"the import crashed the interpreter (signal {-code})"
    else:
        why = f"the interpreter exited with code {code} during the import"
    return verdicts, current, {"type": "crash", "message": why, "missing": None}, err


def _text(data: str | bytes | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else data or ""


def import_each(modules: list[str], python: str) -> dict[str, messages.ImportErrorReport | None]:
    """module -> None (imported) or its error. One interpreter for all; each module that
    failed, crashed or hung there is imported again alone, and that verdict is the one kept
    (with what the import wrote to stderr: numpy, for one, prints the cause there)."""
    verdicts: dict[str, messages.ImportErrorReport | None] = {}
    pending = list(modules)
    while pending:
        done, stopped, _, _ = _batch(pending, python, BATCH_TIMEOUT)
        verdicts.update(done)
        if stopped is None:
            break
        verdicts[stopped] = {"type": "crash"}
        pending = pending[pending.index(stopped) + 1:]
    for module in modules:
        if verdicts.get(module) is not None:
            done, stopped, death, err = _batch([module], python, ALONE_TIMEOUT)
            error = death if stopped is not None else done.get(module)
            if error is not None:
                lines = [line for line in err.strip().splitlines() if line.strip()]
                error["output"] = "\n".join(lines[-12:])[-1500:]
            verdicts[module] = error
    return {module: verdicts.get(module) for module in modules}


def main(argv: list[str]) -> int:
    groups = json.loads(argv[2])
    workers = max(1, min(len(groups), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:  # the threads only wait on interpreters
        verdicts = list(pool.map(lambda modules: import_each(list(modules), argv[1]), groups))
    print(json.dumps(verdicts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
