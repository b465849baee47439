"""What the user sees while wheelferry works: every step named and timed, container output
streamed dimly, tables at the end. rich on a terminal, plain lines elsewhere (CI, pipes).

No step is silent while it runs. On a terminal a live status under the output shows the running
step, its elapsed time, how many of how many are done and the container's last line. Elsewhere
every line carries the time since the run began, and a heartbeat line says a step is still
working whenever nothing was printed for HEARTBEAT_SECONDS.

What containers print feeds that status: any line is the "last line" (a line that starts with
NOTE, "... ", is only that: hidden unless verbose), and a line that ends with "[n/m]" says that
n of the step's m items are done."""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

# The longest silence of a running step in plain output (CI logs, pipes).
HEARTBEAT_SECONDS = 5.0
# How often the live status on a terminal is redrawn (its spinner and elapsed time).
REFRESH_PER_SECOND = 8
TICKER_THREAD = "wheelferry-progress"
# Container lines that tell progress only: shown in the live status and heartbeats, printed
# only when verbose.
NOTE = "... "
# The end of a container line that counts the step's items: "[3/12]" is 3 of 12 done.
_COUNT = re.compile(r"\[(\d+)/(\d+)\]\s*$")
# Container lines that are machine-readable results, not progress worth showing.
_RESULT_PREFIX = "WHEELFERRY-"
_LAST_CHARS = 160


@dataclass
class _Activity:
    """A running step as the status and heartbeats show it."""

    name: str
    started: float
    done: int = 0
    total: int | None = None
    last: str = ""

    def counted(self) -> str:
        return f"{self.done} of {self.total} done" if self.total else ""


class Reporter:
    """Progress on standard error. `quiet`: nothing but errors (raised, shown by the edge) and
    the run's final line, which `finish` prints. Colours follow rich, which honours NO_COLOR; off
    a terminal the lines are plain text, never markup."""

    def __init__(self, *, verbose: bool = False, quiet: bool = False,
                 console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.rich = self.console.is_terminal
        self.verbose = verbose and not quiet
        self.quiet = quiet
        self._final = ""
        self._began = time.monotonic()
        self._said = self._began  # when a plain line was last written
        self._steps: list[_Activity] = []
        # Guards the steps' state, and plain writes (the heartbeat thread writes too). Never
        # held while rich prints: the ticker thread's redraw renders the status, which takes it.
        self._lock = threading.RLock()
        self._spinner = Spinner("dots", style="cyan")

    def info(self, message: str) -> None:
        if self.quiet:
            self._final = message
            return
        if self.rich:
            self.console.print(f"[bold cyan]wheelferry[/] {message}", markup=True)
        else:
            self._plain(f"wheelferry: [{self._clock()}] {message}")

    def warn(self, message: str) -> None:
        if self.quiet:
            return
        if self.rich:
            self.console.print(f"[bold yellow]wheelferry warning:[/] {message}", markup=True)
        else:
            self._plain(f"wheelferry: [{self._clock()}] warning: {message}")

    def output(self, line: str) -> None:
        """A line of a container's output: noted for the status; shown when verbose, or when it
        is an echoed command or a result ("$ ", "==> ")."""
        self._note(line)
        if self.quiet or not (self.verbose or line.startswith(("$ ", "==> "))):
            return
        if self.rich:
            # A Text, not markup: container lines hold brackets ("[notice]", "[3/12]").
            self.console.print(Text(f"  {line}", style="dim"), highlight=False)
        else:
            self._plain(f"  [{self._clock()}] {line}")

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        self.info(f"{name} ...")
        activity = _Activity(name, started)
        with self._lock:
            self._steps.append(activity)
            outermost = len(self._steps) == 1
        # One live status or heartbeat for the outermost step; it shows the innermost.
        stop = self._show_progress() if outermost and not self.quiet else None
        try:
            yield
        finally:
            with self._lock:
                self._steps.remove(activity)
            if stop is not None:
                stop()
        self.info(f"{name}: done in {time.monotonic() - started:.1f} s")

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
              footer: str = "") -> None:
        if self.quiet:
            self._final = footer or title
            return
        if self.rich:
            table = Table(title=title, title_justify="left")
            for column in columns:
                table.add_column(column)
            for row in rows:
                table.add_row(*row)
            self.console.print(table)
            if footer:
                self.console.print(footer)
            return
        lines = [f"{title}:", *("  " + "  ".join(row) for row in rows)]
        self._plain("\n".join([*lines, footer] if footer else lines))

    def finish(self) -> None:
        """The end of a successful run: quiet, its final line is said now (the only one)."""
        if self.quiet and self._final:
            self._plain(f"wheelferry: {self._final}")
            self._final = ""

    # -- progress ---------------------------------------------------------------------------

    def _clock(self) -> str:
        return f"{time.monotonic() - self._began:.1f} s"

    def _plain(self, text: str) -> None:
        with self._lock:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
            self._said = time.monotonic()

    def _note(self, line: str) -> None:
        text = line.strip()
        if not text or text.startswith(_RESULT_PREFIX):
            return
        with self._lock:
            if not self._steps:
                return
            activity = self._steps[-1]
            counted = _COUNT.search(text)
            if counted:
                activity.done, activity.total = int(counted[1]), int(counted[2])
            text = text.removeprefix(NOTE.strip()).strip()
            activity.last = text if len(text) <= _LAST_CHARS else text[:_LAST_CHARS - 3] + "..."

    def _show_progress(self) -> Callable[[], None]:
        """Start the live status (terminal) or the heartbeat (plain) in a thread of our own, so a
        step whose container is silent is not; returns what stops it and waits for the thread
        (rich's own refresh thread is not waited for)."""
        stopped = threading.Event()
        if self.rich:
            # transient: the status goes when the step ends, before its "done" line or the error.
            live = Live(console=self.console, get_renderable=self._status, transient=True,
                        auto_refresh=False, redirect_stdout=False, redirect_stderr=True)
            live.start()

            def tick() -> None:
                # A closed or broken terminal ends the status, not the step: the step's own
                # output fails and says so, without a thread's traceback mixed in.
                with contextlib.suppress(OSError, ValueError):
                    while not stopped.wait(1 / REFRESH_PER_SECOND):
                        live.refresh()
        else:
            def tick() -> None:
                with contextlib.suppress(OSError, ValueError):
                    self._heartbeat(stopped)
        ticking = threading.Thread(target=tick, daemon=True, name=TICKER_THREAD)
        ticking.start()

        def stop() -> None:
            stopped.set()
            ticking.join()
            if self.rich:
                live.stop()
        return stop

    def _heartbeat(self, stopped: threading.Event) -> None:
        while True:
            with self._lock:
                due = self._said + HEARTBEAT_SECONDS - time.monotonic()
            if stopped.wait(max(due, 0.01)):
                return
            with self._lock:
                if not self._steps or time.monotonic() - self._said < HEARTBEAT_SECONDS:
                    continue
                activity = self._steps[-1]
                facts = [f"still working, {time.monotonic() - activity.started:.0f} s in"]
                if activity.total:
                    facts.append(activity.counted())
                said = f"{activity.name}: {', '.join(facts)}"
                if activity.last:
                    said += f" (last: {activity.last})"
                self._plain(f"wheelferry: [{self._clock()}] {said}")

    def _status(self) -> RenderableType:
        """The live status: rendered by rich's refresh thread, from the innermost step."""
        with self._lock:
            if not self._steps:
                return Text("")
            activity = self._steps[-1]
            name, last, counted = activity.name, activity.last, activity.counted()
            elapsed = time.monotonic() - activity.started
        head = Text.assemble((name, "bold"), "  ", (f"{elapsed:.0f} s", "cyan"))
        if counted:
            head.append(f"  {counted}", style="bold cyan")
        self._spinner.update(text=head)
        if not last:
            return self._spinner
        return Group(self._spinner, Text(f"  {last}", style="dim", no_wrap=True,
                                         overflow="ellipsis"))



def format_size(size: int) -> str:
    """Bytes in binary units, labelled as such (1 MiB = 1024 KiB)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def print_facts(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """A command's answer (not progress): on standard output, a table on a terminal, else one
    `subject: state` line each."""
    console = Console(highlight=False)
    if console.is_terminal:
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for subject, text in rows:
            table.add_row(subject, text)
        console.print(table)
        return
    print(f"{title}:")
    for subject, text in rows:
        print(f"  {subject}: {text}")
    sys.stdout.flush()
