"""Progress off a terminal, with a real container: a step whose container says nothing for
longer than the heartbeat interval still prints a line now and then, naming the step and the
container's last line; the heartbeat ends with the step."""

from __future__ import annotations

import re
import threading
import uuid

import pytest
from tests.support import TARGET_IMAGE

from wheelferry.core import report
from wheelferry.core.report import Reporter
from wheelferry.engine.client import ContainerSpec, Engine

pytestmark = pytest.mark.engine

# Far above the interval the test sets: a loaded machine still sees several intervals pass.
SILENCE_SECONDS = 4


def test_a_silent_container_step_prints_heartbeats(engine: Engine,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "HEARTBEAT_SECONDS", 0.5)
    reporter = Reporter()
    assert not reporter.rich
    spec = ContainerSpec(
        image=TARGET_IMAGE,
        command=("sh", "-c", "echo '... 1 package(s) to fetch, sdists to build, 1 at a time "
                             "[0/1]'; echo '... x: building its wheel from x-1.0.tar.gz'; "
                             f"sleep {SILENCE_SECONDS}; echo '==> x: built x-1.0-py3-none-any.whl "
                             "(4.0 s) [1/1]'"),
        purpose=f"test-progress-{uuid.uuid4().hex[:10]}",
    )
    with reporter.step("building 1 package"):
        result = engine.run(spec, on_line=reporter.output)
    assert result.ok
    lines = capsys.readouterr().err.splitlines()
    beats = [line for line in lines if "still working" in line]
    assert beats, lines
    assert all(re.fullmatch(
        r"wheelferry: \[\d+\.\d s\] building 1 package: still working, \d+ s in, "
        r"0 of 1 done \(last: x: building its wheel from x-1\.0\.tar\.gz\)", beat)
        for beat in beats), beats
    # Then the result, the end of the step, and nothing after it.
    assert re.fullmatch(r"  \[\d+\.\d s\] ==> x: built x-1\.0-py3-none-any\.whl \(4\.0 s\) "
                        r"\[1/1\]", lines[-2]), lines
    assert re.fullmatch(r"wheelferry: \[\d+\.\d s\] building 1 package: done in \d+\.\d s",
                        lines[-1]), lines
    assert not [t for t in threading.enumerate() if t.name == report.TICKER_THREAD]
