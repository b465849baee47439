"""Byte-compiles every `.py` file the shipped distributions installed, for this interpreter (the
target Python), in memory: nothing is written into the install (runs in the proof's container,
standard library only, in a fresh interpreter: init.sh may have just created the user site).

`python3 compile_shipped.py '["name", ...]'` prints one JSON line: canonical name -> {"compiled":
how many files, "errors": [{"file": the path in the install, "line": N, "message": ...,
"aside": true when the file is in a tests, test, examples or docs folder}]}.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the types only: the script runs alone in the image's Python
    from wheelferry.incontainer import messages

ASIDE = {"tests", "test", "examples", "docs"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def compile_file(path: str) -> tuple[int, str] | None:
    """The first error compiling one file (its line and message), or None when it compiles."""
    try:
        with open(path, "rb") as file:
            source = file.read()
    except OSError as error:
        return 0, f"cannot be read ({error.strerror})"
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        return int(error.lineno or 0), f"{type(error).__name__}: {error.msg}"
    except (ValueError, UnicodeDecodeError, RecursionError, MemoryError) as error:
        # NUL bytes, a wrong coding cookie, code nested too deep for the compiler
        return 0, f"{type(error).__name__}: {error}"
    return None


def check(names: list[str]) -> dict[str, messages.CompiledReport]:
    wanted = {canonical(n) for n in names}
    found: dict[str, messages.CompiledReport] = {}
    for dist in md.distributions():
        name = canonical(dist.metadata["Name"] or "")
        if name not in wanted or name in found:
            continue
        errors: list[messages.SyntaxErrorReport] = []
        compiled = 0
        for member in dist.files or ():
            parts = member.parts
            if not str(member).endswith(".py") or ".." in parts:
                continue
            compiled += 1
            error = compile_file(str(member.locate()))
            if error is not None:
                errors.append({"file": str(member), "line": error[0], "message": error[1],
                               "aside": bool(ASIDE.intersection(part.lower()
                                                                for part in parts[:-1]))})
        found[name] = {"compiled": compiled, "errors": errors}
    return found


if __name__ == "__main__":
    print(json.dumps(check(json.loads(sys.argv[1]))), flush=True)
