"""A container's output and its end: the output read from a started container (attached, with
the watchdog's heartbeat, or followed in its log), as lines (each passed on, the last ones kept,
the watchdog's exit line taken out), and removing a container for good."""

from __future__ import annotations

import codecs
import collections
import contextlib
import threading
from collections.abc import Callable
from typing import Any

import docker.errors
from docker.utils.socket import frames_iter

# incontainer/watchdog.py's last line: how an auto-removed container tells its exit code.
EXIT_MARKER = "WHEELFERRY-EXIT "
TAIL_LINES = 60
REMOVAL_SECONDS = 30
# How often this client tells the container's watchdog that it is still there.
HEARTBEAT_SECONDS = 2.0


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


def read_attached(container: Any, lines: OutputLines) -> int:
    """Attached before the start (so no output is missed, even from a container the engine
    removes the moment it ends): output read from the socket, a heartbeat written to it; its
    exit code."""
    sock = container.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1,
                                           "stream": 1})
    raw = getattr(sock, "_sock", sock)
    done = threading.Event()

    def heartbeat() -> None:
        while not done.is_set():
            try:
                raw.sendall(b"\0")
            except OSError:
                return
            done.wait(HEARTBEAT_SECONDS)

    beating = threading.Thread(target=heartbeat, daemon=True)
    try:
        container.start()
        beating.start()
        for _, data in frames_iter(sock, tty=False):
            lines.feed(data)
    finally:
        done.set()
        with contextlib.suppress(OSError):
            raw.close()
        with contextlib.suppress(OSError):
            sock.close()
    try:
        return int(container.wait().get("StatusCode", 1))
    except docker.errors.NotFound:
        return 1  # removed already: the watchdog's last line says how it ended


def read_followed(container: Any, lines: OutputLines) -> int:
    """Started, then its log followed to the end; its exit code."""
    container.start()
    received = 0
    for chunk in container.logs(stream=True, follow=True):
        received += len(chunk)
        lines.feed(chunk)
    status = container.wait()
    # The engine logs a last line that lacks a newline only when the container exits,
    # often after the followed stream has ended: read what it missed.
    lines.feed(container.logs()[received:])
    return int(status.get("StatusCode", 1))
