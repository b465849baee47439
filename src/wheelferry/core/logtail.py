"""The end of a tool's log, readable: tracebacks cut down to their message, the line that
explains a failure kept even when it came long before the end (a compiler's first error, the
package's own exception), and the attempts of a log told apart, each with its own cause. Pure
functions."""

from __future__ import annotations

import re

from wheelferry.incontainer import build_needs


def one_line_cause(text: str) -> str:
    """An attempt's own cause, in one line: its explaining exception, else its last line."""
    lines = [line.strip() for line in log_tail(text, lines=8).splitlines() if line.strip()]
    found = [line for line in lines if "Error" in line or "error:" in line]
    return (found[-1] if found else lines[-1] if lines else "no output")[:300]


def attempts_told_apart(log: str) -> tuple[str, str, list[str]]:
    """A log of several attempts (build_needs.ATTEMPT lines): the last attempt's title and
    output, and one line per earlier attempt with its own cause."""
    parts = build_needs.attempts(log)
    earlier = [f"attempt {number} ({title}): {one_line_cause(text)}"
               for number, (title, text) in enumerate(parts[:-1], start=1)]
    return parts[-1][0], parts[-1][1], earlier


_FRAME = re.compile(r'^\s*File "[^"]+", line \d+')


def log_tail(log: str, lines: int = 25) -> str:
    """The end of a tool's log, readable: Python tracebacks of the tools in the container are cut
    down to their final message (the frames say nothing to the user)."""
    kept: list[str] = []
    frame_indent: int | None = None  # after a frame: the code line shown under it is deeper
    for line in log.rstrip().splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if frame_indent is not None:
            under, frame_indent = indent > frame_indent, None
            # A frame of code with no source (exec'd setup.py: File "<string>") has no code
            # line: the exception that follows is the explanation, never skipped.
            if under and not _FRAME.match(line):
                continue
        if stripped.startswith("Traceback (most recent call last)"):
            continue
        if stripped.startswith(("The above exception was the direct cause",
                                "During handling of the above exception")):
            continue
        if _FRAME.match(line):
            frame_indent = indent
            continue
        if stripped.startswith(("^", "~")) and set(stripped) <= {"^", "~"}:
            continue
        kept.append(line)
    kept = [line for i, line in enumerate(kept)
            if line.strip() or (i > 0 and kept[i - 1].strip())]
    while kept and not kept[-1].strip():
        kept.pop()
    cause = _explaining_line(kept)
    if cause is None or cause >= len(kept) - lines:
        return "\n".join(kept[-lines:])
    # The exception that explains the failure came earlier than the tail (pip's own wrapping
    # and tracebacks follow it): show it with what led to it, then the end.
    excerpt = kept[max(0, cause - _CONTEXT):cause + 1]
    rest = max(1, lines - len(excerpt) - 1)
    return "\n".join([*excerpt, "    ...", *kept[-rest:]])


_CONTEXT = 8
# gcc's and clang's "file.c:12:5: error: ..." (the fatal kind too).
_COMPILER_ERROR = re.compile(r"^\s*[^\s:]+:\d+(?::\d+)?: (?:fatal )?error: ")
_EXCEPTION = re.compile(r"^\s*(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception)(?::|$)")
# Pip's and pip-tools' own wrapping of a failure: never the explanation.
_WRAPPERS = ("pip._internal", "pip._vendor", "piptools.", "subprocess-exited-with-error",
             "InstallationSubprocessError", "metadata-generation-failed")


def _probing(lines: list[str], index: int) -> bool:
    """Whether the compiler error at `index` is a build helper's probe of what the compiler
    can do (numpy.distutils' CPU-feature checks), expected to fail on some machines."""
    return any("/distutils/checks/" in line or "CCompilerOpt" in line
               for line in lines[max(0, index - _CONTEXT):index + 1])


def _explaining_line(lines: list[str]) -> int | None:
    """Index of the first error a compiler reported (its first error is the one that explains),
    else of the last exception line raised by the package's own code (a build backend,
    setup.py), as opposed to pip's wrapping of it."""
    for index, line in enumerate(lines):
        if _COMPILER_ERROR.match(line) and not _probing(lines, index):
            return index
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if _EXCEPTION.match(line) and not any(marker in line for marker in _WRAPPERS):
            return index
    return None
