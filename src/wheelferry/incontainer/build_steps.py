"""Runs in the toolchain image, for build_wheels.py: one step of a build run into its log (a
`Failed` naming the step when it fails), attempts marked in that log for the host to tell apart,
and lines for the host's progress (whole lines, from several threads; a download's size while
pip fetches it).

Stdlib only, besides `packaging` (in the toolchain's venv; pip vendors it otherwise).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

try:
    from packaging import requirements
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import requirements  # type: ignore[no-redef]

if TYPE_CHECKING:
    from wheelferry.incontainer import build_needs
else:
    try:  # in the container, the scripts sit side by side
        import build_needs
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import build_needs

SCRATCH = Path("/tmp/wheelferry-build")


PIP = [sys.executable, "-m", "pip"]


# pip shows a build's own output only when it fails, unless verbose: the log keeps it always
# (a build that succeeds may have left out an optional compiled part, and says so there).
BUILD_OUTPUT = ["--verbose"]


# Progress for the host (wheelferry.report): a line that starts with NOTE only tells progress;
# a result line ends with "[done/total]".
NOTE = "... "


# How often a download in progress tells its size, from this size up.
DOWNLOAD_REPORT_SECONDS = 2.0


BIG_DOWNLOAD = 1 << 20


class Failed(Exception):
    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


def run(cmd: list[str], log: Path, env: dict[str, str], step: str) -> None:
    with log.open("a") as handle:
        handle.write(f"$ {shlex.join(cmd)}\n")
        handle.flush()
        code = subprocess.call(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env,
                               cwd=SCRATCH)
    if code != 0:
        raise Failed(step)


_SAYING = threading.Lock()


def say(line: str) -> None:
    """One whole line on stdout: several threads print, and print() writes a line and its end
    separately, so two lines could merge and the host would miss one."""
    with _SAYING:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def note(text: str) -> None:
    say(f"{NOTE}{text}")


def report_downloads(stopped: threading.Event) -> None:
    """Tell the size of each big download while pip fetches it: pip downloads into a
    pip-unpack-* folder in the temporary directory, named as the file is (pip prints no progress
    without a terminal)."""
    shown: dict[str, int] = {}
    while not stopped.wait(DOWNLOAD_REPORT_SECONDS):
        for partial in Path(tempfile.gettempdir()).glob("pip-unpack-*/*"):
            try:
                size = partial.stat().st_size
            except OSError:
                continue  # done and moved meanwhile
            if size >= BIG_DOWNLOAD and shown.get(partial.name) != size:
                shown[partial.name] = size
                note(f"downloading {partial.name}: {size / (1 << 20):.1f} MiB so far")


def attempt(log: Path, title: str) -> None:
    """Start a new attempt in the package's log: the host tells each attempt's failure apart."""
    with log.open("a") as handle:
        handle.write(f"{build_needs.ATTEMPT}{title}\n")


def last_attempt(log: Path) -> str:
    return build_needs.attempts(log.read_text(errors="replace"))[-1][1]


def locked_version(line: str) -> str:
    """The version a lock line pins (`name==1.0 --hash=...`)."""
    requirement = requirements.Requirement(line.split(" --hash", 1)[0].split(" \\", 1)[0])
    return next(spec.version for spec in requirement.specifier if spec.operator == "==")
