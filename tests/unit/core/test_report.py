"""report: sizes in the unit they are; progress while a step runs (heartbeats in plain lines,
a live status on a terminal)."""

from __future__ import annotations

import io
import re
import threading
import time

import pytest
from rich.console import Console

from wheelferry.core import report
from wheelferry.core.report import Reporter, format_size


@pytest.mark.parametrize(("size", "shown"), [
    (0, "0 B"),
    (1023, "1023 B"),
    (1024, "1.0 KiB"),
    (1536, "1.5 KiB"),
    (72 * 1024 * 1024, "72.0 MiB"),
    (3 * 1024 ** 3, "3.0 GiB"),
    (5 * 1024 ** 4, "5120.0 GiB"),
])
def test_sizes_are_binary_units_labelled_as_such(size: int, shown: str) -> None:
    assert format_size(size) == shown


# -- progress: plain lines off a terminal, a live status on one ----------------------------------


def plain_reporter() -> Reporter:
    reporter = Reporter()
    assert not reporter.rich  # pytest captures stderr: not a terminal
    return reporter


def said_until(capsys: pytest.CaptureFixture[str], wanted: str, seconds: float = 30) -> str:
    """What was written to stderr, read until it holds `wanted` (or the deadline passed)."""
    text = ""
    deadline = time.monotonic() + seconds
    while wanted not in text and time.monotonic() < deadline:
        time.sleep(0.02)
        text += capsys.readouterr().err
    return text


def test_plain_lines_carry_the_time_since_the_run_began(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    reporter = plain_reporter()
    with reporter.step("locking"):
        reporter.output("$ pip-compile requirements.in")
        reporter.output("Collecting numpy")  # not shown: neither a command nor a result
    reporter.warn("careful")
    lines = [re.sub(r"\d+\.\d s", "N s", line) for line in capsys.readouterr().err.splitlines()]
    assert lines == [
        "wheelferry: [N s] locking ...",
        "  [N s] $ pip-compile requirements.in",
        "wheelferry: [N s] locking: done in N s",
        "wheelferry: [N s] warning: careful",
    ]


def test_a_silent_step_prints_heartbeats(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "HEARTBEAT_SECONDS", 0.05)
    reporter = plain_reporter()
    with reporter.step("fetching and building 3 package(s)"):
        reporter.output("... 3 package(s) to fetch, sdists to build, 2 at a time [0/3]")
        reporter.output("==> a: downloaded a-1.0-py3-none-any.whl (0.1 s) [1/3]")
        reporter.output("... b: building its wheel from b-1.0.tar.gz")
        said = said_until(capsys, "still working")
    said += capsys.readouterr().err
    beat = next(line for line in said.splitlines() if "still working" in line)
    assert re.fullmatch(
        r"wheelferry: \[\d+\.\d s\] fetching and building 3 package\(s\): still working, \d+ s "
        r"in, 1 of 3 done \(last: b: building its wheel from b-1\.0\.tar\.gz\)", beat), beat
    assert "done in" in said.splitlines()[-1]
    # The heartbeat ended with its step: nothing is said after it, and no thread is left.
    time.sleep(0.2)
    assert capsys.readouterr().err == ""
    assert not [t for t in threading.enumerate() if t.name == report.TICKER_THREAD]


def test_no_heartbeat_while_lines_keep_coming(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "HEARTBEAT_SECONDS", 1.0)
    reporter = plain_reporter()
    with reporter.step("building"):
        # A result line every 50 ms for 2.5 heartbeat periods: none of them is silent.
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            reporter.output("==> a: built a-1.0-py3-none-any.whl (0.1 s) [1/1]")
            time.sleep(0.05)
        assert "still working" not in capsys.readouterr().err
        # The same step, once its lines stop, does beat.
        assert "building: still working" in said_until(capsys, "still working")


def test_the_heartbeat_stops_on_an_interrupt(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "HEARTBEAT_SECONDS", 0.05)
    reporter = plain_reporter()

    def interrupted() -> None:
        with reporter.step("locking"):
            said_until(capsys, "still working")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert not [t for t in threading.enumerate() if t.name == report.TICKER_THREAD]
    time.sleep(0.2)
    # No "done" after an interruption, and no heartbeat to garble the error that follows.
    assert "locking" not in capsys.readouterr().err


def test_nested_steps_share_one_heartbeat_that_tells_the_inner_one(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "HEARTBEAT_SECONDS", 0.05)
    reporter = plain_reporter()
    with reporter.step("building"), reporter.step("locking"):
        reporter.output("Collecting numpy")
        said = said_until(capsys, "still working")
    beat = next(line for line in said.splitlines() if "still working" in line)
    assert "] locking: still working" in beat
    assert beat.endswith("(last: Collecting numpy)")
    assert len([t for t in threading.enumerate() if t.name == report.TICKER_THREAD]) == 0


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120, color_system=None), out


def shown(out: io.StringIO) -> str:
    """What a terminal shows, without cursor movements."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())


def status_shows(out: io.StringIO, wanted: str, seconds: float = 30) -> str:
    """The terminal's text once the live status shows `wanted` (rich redraws it on its own)."""
    deadline = time.monotonic() + seconds
    while wanted not in shown(out) and time.monotonic() < deadline:
        time.sleep(0.02)
    return shown(out)


def test_on_a_terminal_a_live_status_shows_the_step() -> None:
    console, out = terminal()
    reporter = Reporter(console=console)
    assert reporter.rich
    with reporter.step("fetching and building 12 package(s)"):
        reporter.output("... 12 package(s) to fetch, sdists to build, 2 at a time [0/12]")
        assert "0 of 12 done" in status_shows(out, "0 of 12 done")
        reporter.output("==> a: downloaded a-1.0-py3-none-any.whl (0.1 s) [3/12]")
        reporter.output("... downloading numpy-1.26.4.tar.gz: 12.5 MiB so far")
        downloading = status_shows(out, "12.5 MiB so far")
        reporter.output("[notice] A new release of pip is available")  # brackets, no markup
        reporter.output("... numpy: building its wheel from numpy-1.26.4.tar.gz")
        building = status_shows(out, "building its wheel")
    text = shown(out)
    assert "fetching and building 12 package(s) ..." in text
    assert "  ==> a: downloaded a-1.0-py3-none-any.whl (0.1 s) [3/12]" in text
    # The live status: the step, its elapsed time, how many of how many, the last line.
    assert re.search(r"fetching and building 12 package\(s\)  \d+ s  3 of 12 done", building)
    assert "  downloading numpy-1.26.4.tar.gz: 12.5 MiB so far" in downloading
    assert "  numpy: building its wheel from numpy-1.26.4.tar.gz" in building
    assert "[notice]" not in text  # not verbose: it only fed the status
    assert "fetching and building 12 package(s): done in" in text.splitlines()[-1]
    assert not [t for t in threading.enumerate() if t.name == report.TICKER_THREAD]


def test_on_a_terminal_the_status_ends_with_an_error() -> None:
    console, out = terminal()
    reporter = Reporter(console=console)

    def failing() -> None:
        with reporter.step("locking"):
            status_shows(out, "locking  ")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing()
    # The live display is gone and its thread with it: the error that follows prints clean.
    assert console._live_stack == []
    assert not [t for t in threading.enumerate() if t.name == report.TICKER_THREAD]
    assert "done in" not in shown(out)


def test_quiet_says_nothing_but_the_final_line(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "HEARTBEAT_SECONDS", 0.05)
    quiet = Reporter(quiet=True, console=Console(file=io.StringIO(), force_terminal=False))
    with quiet.step("building"):
        quiet.output("$ pip wheel x")
        quiet.info("1 wheel reused")
        quiet.warn("not proven")
        time.sleep(0.2)  # no heartbeat either
    quiet.table("wheelhouse", ("package",), [("x",)], footer="1 wheels, 1.0 KiB in all")
    assert capsys.readouterr().err == ""
    quiet.finish()
    assert capsys.readouterr().err == "wheelferry: 1 wheels, 1.0 KiB in all\n"
    quiet.finish()  # said once
    assert capsys.readouterr().err == ""
