"""Ctrl-C and SIGTERM at several moments of real runs: the previous locks and wheelhouse stay
exactly as they were, no staging folder or container is left, and the next run succeeds.

Each test changes the project so that a run has real work to do (a new sdist to lock and build),
starts the real CLI, waits until the run is at the chosen moment (observed from outside: the
processes inside the run's container, or the paused swap), and sends a real signal.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
from tests.conftest import write_project

pytestmark = pytest.mark.engine

WHEELFERRY = str(Path(sys.executable).parent / "wheelferry")
PAUSED_RUN = Path(__file__).parents[1] / "fixtures" / "paused_run.py"
BASE = "wferryfx-needs-pure\nwferryfx-cext\n"
LEGACY_OVERRIDE = {"wferryfx-legacy": {"build-requires": ["wferryfx-buildhelper"],
                                       "no-build-isolation": True}}


def snapshot(project: Path) -> dict[str, bytes]:
    """Every file of the wheelhouse and the requirement folder, by relative path."""
    files = {}
    for folder in ("wheelhouse", "requirements"):
        for path in sorted((project / folder).rglob("*")):
            if path.is_file():
                files[str(path.relative_to(project))] = path.read_bytes()
    return files


def leftovers(project: Path) -> list[str]:
    found = [p.name for p in project.iterdir() if ".wheelferry-" in p.name]
    state = project / ".wheelferry"
    if state.is_dir():
        found += [p.name for p in state.iterdir() if p.name != "run.lock"]
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, local_index: str) -> Path:
    project = write_project(tmp_path_factory.mktemp("interrupt") / "project", {"base.in": BASE},
                            **{"index-url": local_index, "network": "host", "ca-bundle": "none",
                               "overrides": LEGACY_OVERRIDE})
    subprocess.run([WHEELFERRY, "build", "--project", str(project)], check=True,
                   capture_output=True)
    return project


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(built, copy)
    # New work for the next run: one more sdist, legacy, to lock, download and compile.
    (copy / "requirements" / "base.in").write_text(BASE + "wferryfx-legacy\n")
    return copy


def container_running(purpose: str, command_part: str) -> Callable[[], bool]:
    """True once a wheelferry container for `purpose` runs a process matching command_part."""
    client = docker.from_env()

    def check() -> bool:
        for container in client.containers.list(filters={"label": f"io.wheelferry={purpose}"}):
            try:
                processes = container.top(ps_args="-eo args")["Processes"] or []
            except docker.errors.APIError:
                continue
            if any(command_part in " ".join(row) for row in processes):
                return True
        return False

    return check


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str],
             timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"the run ended before the moment to interrupt it:\n{err}")
        time.sleep(0.05)
    process.kill()
    pytest.fail("the run never reached the moment to interrupt it")


def interrupt_and_check(project: Path, process: subprocess.Popen[str], sig: int,
                        before: dict[str, bytes]) -> None:
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in err
    assert "unchanged" in err
    assert "Traceback" not in err
    assert snapshot(project) == before
    assert leftovers(project) == []
    again = subprocess.run([WHEELFERRY, "build", "--project", str(project)],
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert any(p.name.startswith("wferryfx_legacy-") for p in (project / "wheelhouse").iterdir())


def start(project: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([WHEELFERRY, "build", "--project", str(project)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_during_resolution(project: Path, sig: int) -> None:
    before = snapshot(project)
    process = start(project)
    wait_for(container_running("lock", "pip-compile"), process)
    interrupt_and_check(project, process, sig, before)


def test_interrupt_during_download(project: Path) -> None:
    before = snapshot(project)
    process = start(project)
    wait_for(container_running("build", "pip download"), process)
    interrupt_and_check(project, process, signal.SIGINT, before)


def test_interrupt_during_sdist_compile(project: Path) -> None:
    before = snapshot(project)
    process = start(project)
    wait_for(container_running("build", "pip wheel"), process)
    interrupt_and_check(project, process, signal.SIGTERM, before)


def test_interrupt_during_swap(project: Path, tmp_path: Path) -> None:
    before = snapshot(project)
    marker = tmp_path / "paused"
    process = subprocess.Popen(
        [sys.executable, str(PAUSED_RUN), str(marker), "build", "--project", str(project)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(marker.exists, process)
    # The old wheelhouse is moved aside right now; the interruption must put it back.
    assert not (project / "wheelhouse").exists()
    interrupt_and_check(project, process, signal.SIGINT, before)


def test_killed_run_is_cleaned_up_by_the_next(project: Path, tmp_path: Path) -> None:
    """SIGKILL gives no chance to clean up: the next run recovers (the run lock is released by
    the kernel, the moved-aside wheelhouse is restored, staging folders are removed)."""
    marker = tmp_path / "paused"
    process = subprocess.Popen(
        [sys.executable, str(PAUSED_RUN), str(marker), "build", "--project", str(project)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(marker.exists, process)
    process.kill()
    process.communicate()
    # The container of a killed run may still be removed by its engine; the next run starts.
    verify = subprocess.run([WHEELFERRY, "verify", "--static", "--project", str(project)],
                            capture_output=True, text=True)
    assert "busy" not in verify.stderr
    assert (project / "wheelhouse").is_dir()
    assert leftovers(project) == []
