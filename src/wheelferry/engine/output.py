"""A container's output and its end: the output as lines (each passed on, the last ones kept, the
watchdog's exit line taken out), and removing a container for good."""

from __future__ import annotations

import codecs
import collections
import contextlib
from collections.abc import Callable
from typing import Any

import docker.errors

# incontainer/watchdog.py's last line: how an auto-removed container tells its exit code.
EXIT_MARKER = "WHEELFERRY-EXIT "
TAIL_LINES = 60
REMOVAL_SECONDS = 30


def remove_for_good(container: Any) -> None:
    """Remove the container and return once it is gone (the engine may be removing it already:
    an auto-removed container that just ended)."""
    try:
        container.remove(force=True)
        return
    except docker.errors.NotFound:
        return
    except docker.errors.APIError:
        pass  # removal already in progress
    with contextlib.suppress(docker.errors.DockerException, OSError):
        container.wait(condition="removed", timeout=REMOVAL_SECONDS)


class OutputLines:
    """A container's output as lines: each passed on, the last ones kept, and the watchdog's
    exit line taken out (it is how an auto-removed container tells its exit code)."""

    def __init__(self, on_line: Callable[[str], None] | None) -> None:
        self.on_line = on_line
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES * 4)
        self.exit_code: int | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes) -> None:
        *complete, self._pending = (self._pending + self._decoder.decode(data)).split("\n")
        for line in complete:
            self._line(line)

    def finish(self) -> None:
        rest = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        if rest:
            self._line(rest)

    def _line(self, line: str) -> None:
        if line.startswith(EXIT_MARKER) and line[len(EXIT_MARKER):].strip().lstrip("-").isdigit():
            self.exit_code = int(line[len(EXIT_MARKER):])
            if self.tail and not self.tail[-1]:
                self.tail.pop()  # the watchdog's own line break
            return
        self.tail.append(line)
        if self.on_line is not None:
            self.on_line(line)
