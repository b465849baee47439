"""What the user sees while wheelferry works: every step named and timed, container output
streamed dimly, tables at the end. rich on a terminal, plain lines elsewhere (CI, pipes)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.table import Table


class Reporter:
    def __init__(self, *, verbose: bool = False, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.rich = self.console.is_terminal
        self.verbose = verbose

    def info(self, message: str) -> None:
        if self.rich:
            self.console.print(f"[bold cyan]wheelferry[/] {message}", markup=True)
        else:
            print(f"wheelferry: {message}", file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        if self.rich:
            self.console.print(f"[bold yellow]wheelferry warning:[/] {message}", markup=True)
        else:
            print(f"wheelferry: warning: {message}", file=sys.stderr, flush=True)

    def output(self, line: str) -> None:
        """A line of a container's output: shown when verbose, or when it is an echoed command."""
        if not (self.verbose or line.startswith(("$ ", "==> "))):
            return
        if self.rich:
            self.console.print(f"  [dim]{line}[/]", markup=True, highlight=False)
        else:
            print(f"  {line}", file=sys.stderr, flush=True)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        self.info(f"{name} ...")
        yield
        self.info(f"{name}: done in {time.monotonic() - started:.1f} s")

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
              footer: str = "") -> None:
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
        print(f"{title}:", file=sys.stderr)
        for row in rows:
            print("  " + "  ".join(row), file=sys.stderr)
        if footer:
            print(footer, file=sys.stderr)
        sys.stderr.flush()


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
