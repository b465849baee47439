"""Failure and interruption, on real runs.

Ctrl-C and SIGTERM at several moments (during resolution, a download, an sdist compile, the
swap): the previous locks and wheelhouse stay exactly as they were, no staging folder or container
is left, and the next run succeeds. A second run is refused while one runs. An unreachable index,
a download cut off, a full disk and a read-only wheelhouse each end with a message that says so,
and nothing changes.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
from tests.support import (
    LEGACY_OVERRIDE,
    WHEELFERRY,
    build_fails,
    built_project,
    copy_project,
    interruptible,
    set_index_url,
    snapshot,
    staging_left,
    wheelferry,
)

from wheelferry.engine.client import LABEL, PROJECT_LABEL

pytestmark = pytest.mark.engine

PAUSED_RUN = Path(__file__).parents[1] / "fixtures" / "paused_run.py"
BASE = "wferryfx-needs-pure\nwferryfx-cext\n"


def leftovers(project: Path) -> list[str]:
    """Staging folders, and anything but the run lock (and its holder's note) in the state
    folder."""
    found = staging_left(project)
    state = project / ".wheelferry"
    if state.is_dir():
        found += [p.name for p in state.iterdir() if p.name not in ("run.lock", "run.holder")]
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, local_index: str) -> Path:
    return built_project(tmp_path_factory.mktemp("interrupt"), local_index, BASE,
                         overrides=LEGACY_OVERRIDE)


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    copy = copy_project(built, tmp_path)
    # New work for the next run: one more sdist, legacy, to lock, download and compile.
    (copy / "requirements" / "base.in").write_text(BASE + "wferryfx-legacy\n")
    return copy


# The resolver's process, whichever runs: uv, or pip-compile (run through wheelferry's script).
RESOLVING = ("uv pip compile", "pip_compile_index_hashes.py")


def for_project(purpose: str, project: Path) -> dict[str, list[str]]:
    """The engine's filter for wheelferry's `purpose` containers working for `project` (and no
    other project's, such as another test's running at the same moment)."""
    return {"label": [f"{LABEL}={purpose}", f"{PROJECT_LABEL}={project.resolve()}"]}


def container_running(project: Path, purpose: str, *command_parts: str) -> Callable[[], bool]:
    """True once a wheelferry container for `purpose` working for `project` runs a process
    matching one of command_parts."""
    client = docker.from_env()

    def check() -> bool:
        for container in client.containers.list(filters=for_project(purpose, project),
                                                ignore_removed=True):
            try:
                processes = container.top(ps_args="-eo pid,args")["Processes"] or []
            except docker.errors.APIError:
                continue
            if any(part in " ".join(row) for row in processes for part in command_parts):
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


def stopped(process: subprocess.Popen[str], sig: int) -> str:
    """Send `sig`, wait for the process to end; its stderr. Killed if it outlives the wait, so
    that a run that ignored the signal goes on with nothing of the next tests."""
    process.send_signal(sig)
    try:
        return process.communicate(timeout=120)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def interrupt_and_check(project: Path, process: subprocess.Popen[str], sig: int,
                        before: dict[str, bytes]) -> None:
    err = stopped(process, sig)
    assert process.returncode == 130, err
    assert "interrupted" in err
    assert "unchanged" in err
    assert "Traceback" not in err
    assert snapshot(project) == before
    assert leftovers(project) == []
    again = wheelferry("build", project=project)
    assert again.returncode == 0, again.stderr
    assert any(p.name.startswith("wferryfx_legacy-") for p in (project / "wheelhouse").iterdir())


def start(project: Path) -> subprocess.Popen[str]:
    return interruptible(WHEELFERRY, "build", "--project", project)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_during_resolution(project: Path, sig: int) -> None:
    before = snapshot(project)
    process = start(project)
    wait_for(container_running(project, "lock", *RESOLVING), process)
    interrupt_and_check(project, process, sig, before)


def test_interrupt_during_download(project: Path) -> None:
    before = snapshot(project)
    process = start(project)
    wait_for(container_running(project, "build", "pip download"), process)
    interrupt_and_check(project, process, signal.SIGINT, before)


def test_interrupt_during_sdist_compile(project: Path) -> None:
    before = snapshot(project)
    process = start(project)
    wait_for(container_running(project, "build", "pip wheel"), process)
    interrupt_and_check(project, process, signal.SIGTERM, before)


def test_a_killed_client_leaves_no_container_behind(project: Path) -> None:
    """SIGKILL gives wheelferry no chance to clean up: its containers notice that their client
    is gone, stop, and are removed by the engine, with no later run needed."""
    client = docker.from_env()
    compiling: list[str] = []

    def caught_compiling() -> bool:
        for container in client.containers.list(filters=for_project("build", project),
                                                ignore_removed=True):
            with contextlib.suppress(docker.errors.APIError):
                rows = container.top(ps_args="-eo pid,args")["Processes"] or []
                if any("pip wheel" in " ".join(row) for row in rows):
                    compiling.append(container.id)
                    return True
        return False

    process = start(project)
    wait_for(caught_compiling, process)
    process.kill()
    process.communicate()
    deadline = time.monotonic() + 10
    left = compiling
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        present = {c.id for c in client.containers.list(all=True, ignore_removed=True,
                                                        filters={"label": "io.wheelferry"})}
        left = [cid for cid in compiling if cid in present]
    assert left == [], "the killed run's build container is still on the engine after 10 s"


def test_interrupt_during_swap(project: Path, tmp_path: Path) -> None:
    before = snapshot(project)
    marker = tmp_path / "paused"
    process = interruptible(sys.executable, PAUSED_RUN, marker, "build", "--project", project)
    wait_for(marker.exists, process)
    # The old wheelhouse is moved aside right now; the interruption must put it back.
    assert not (project / "wheelhouse").exists()
    interrupt_and_check(project, process, signal.SIGINT, before)


def test_interrupt_during_the_install_proof(project: Path) -> None:
    before = snapshot(project)
    process = interruptible(WHEELFERRY, "verify", "--project", project)
    wait_for(container_running(project, "verify", "pip"), process)
    err = stopped(process, signal.SIGINT)
    assert process.returncode == 130, err
    assert "interrupted" in err
    assert snapshot(project) == before
    assert leftovers(project) == []


def test_killed_run_is_cleaned_up_by_the_next(project: Path, tmp_path: Path) -> None:
    """SIGKILL gives no chance to clean up: the next run recovers (the run lock is released by
    the kernel, the moved-aside wheelhouse is restored, staging folders are removed)."""
    wheelhouse = project / "wheelhouse"
    before = {p.name: p.read_bytes() for p in wheelhouse.iterdir()}
    marker = tmp_path / "paused"
    process = interruptible(sys.executable, PAUSED_RUN, marker, "build", "--project", project)
    wait_for(marker.exists, process)
    assert not wheelhouse.exists()  # killed with the old wheelhouse moved aside
    process.kill()
    process.communicate()
    # The container of a killed run may still be removed by its engine; the next run starts,
    # finds the old wheelhouse back in place and reuses its wheels.
    again = wheelferry("build", project=project)
    assert again.returncode == 0, again.stderr
    old_wheels = {name: data for name, data in before.items() if name.endswith(".whl")}
    assert f"{len(old_wheels)} wheel(s) already built for these pins are reused" in again.stderr
    after = {p.name: p.read_bytes() for p in wheelhouse.iterdir()}
    assert {name: after.get(name) for name in old_wheels} == old_wheels
    assert any(name.startswith("wferryfx_legacy-") for name in after)
    assert leftovers(project) == []


# -- one run at a time ---------------------------------------------------------------------------


def test_a_second_run_is_refused_while_one_runs(project: Path) -> None:
    process = start(project)
    wait_for(container_running(project, "lock", *RESOLVING), process)
    second = wheelferry("build", project=project)
    assert second.returncode == 7
    assert "another wheelferry run is working on" in second.stderr
    assert "wheelferry build" in second.stderr  # says which run holds it
    assert "interrupted" in stopped(process, signal.SIGINT)
    assert process.returncode == 130


# -- network failures ----------------------------------------------------------------------------


class FlakyIndex(http.server.SimpleHTTPRequestHandler):
    """Serves the local index; when `cut` is set, sdists are cut off half-way (the connection
    closes before Content-Length bytes were sent)."""

    cut = False

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if type(self).cut and self.path.endswith(".tar.gz"):
            path = Path(self.translate_path(self.path))
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def flaky_index(local_index_root: Path) -> Iterator[tuple[str, type[FlakyIndex]]]:
    root = local_index_root
    handler = type("Handler", (FlakyIndex,), {"cut": False})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", handler
    finally:
        server.shutdown()
        server.server_close()


def test_index_unreachable(project: Path) -> None:
    # Port 9 (discard) on loopback: nothing listens there.
    set_index_url(project, "http://127.0.0.1:9/simple/")
    build_fails(project, code=4, says=["could not be reached", "nothing was changed"])


def test_download_cut_off(project: Path, flaky_index: tuple[str, type[FlakyIndex]],
                          tmp_path: Path) -> None:
    url, handler = flaky_index
    set_index_url(project, url)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache-lock")}
    locked = wheelferry("lock", project=project, env=env)
    assert locked.returncode == 0, locked.stderr
    before = snapshot(project)
    handler.cut = True
    # A fresh pip cache: the sdists must really come over the (now failing) network.
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache-build")
    run = wheelferry("build", project=project, env=env)
    assert run.returncode == 5, run.stderr
    assert "wferryfx-legacy==1.0" in run.stderr
    assert "download from the index was cut off" in run.stderr
    assert "network error" in run.stderr
    assert "Traceback" not in run.stderr
    assert snapshot(project) == before


# -- disk ------------------------------------------------------------------------------------


@contextlib.contextmanager
def mounted(args: list[str], target: Path) -> Iterator[None]:
    if os.getuid() != 0:
        pytest.skip("mounting a small or read-only file system needs root (CI runs as root)")
    subprocess.run(["mount", *args, str(target)], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_full_disk(project: Path, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted(["-t", "tmpfs", "-o", "size=1m", "tmpfs"], disk):
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace(
            'requirements = [', f'wheelhouse = "{disk}/wheelhouse"\nrequirements = ['))
        (project / "requirements" / "base.in").write_text(BASE)
        first = wheelferry("build", project=project)
        assert first.returncode == 0, first.stderr
        fill(disk)
        (project / "requirements" / "base.in").write_text(BASE + "wferryfx-legacy\n")
        before = {p.name: p.read_bytes() for p in (disk / "wheelhouse").iterdir()}
        run = wheelferry("build", project=project)
        assert run.returncode == 9, run.stderr  # StorageError: writing to disk failed
        assert "No space left on device" in run.stderr
        assert "Free some space" in run.stderr
        assert "Traceback (most recent call last)" not in run.stderr
        assert {p.name: p.read_bytes() for p in (disk / "wheelhouse").iterdir()} == before
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "wheelhouse"]
        # The advice, applied: with the space freed, the same build succeeds.
        (disk / "filler").unlink()
        again = wheelferry("build", project=project)
        assert again.returncode == 0, again.stderr
        assert any(p.name.startswith("wferryfx_legacy-") for p in (disk / "wheelhouse").iterdir())


def fill(disk: Path) -> None:
    """Take every free byte of the small file system."""
    with contextlib.suppress(OSError), (disk / "filler").open("wb") as handle:
        while True:
            handle.write(b"\0" * 4096)
            handle.flush()


def test_read_only_wheelhouse(project: Path) -> None:
    wheelhouse = project / "wheelhouse"
    (project / "requirements" / "base.in").write_text(BASE + "wferryfx-legacy\n")
    before = snapshot(project)
    subprocess.run(["mount", "--bind", str(wheelhouse), str(wheelhouse)], check=False)
    with mounted(["-o", "remount,bind,ro"], wheelhouse):
        run = wheelferry("build", project=project)
    assert run.returncode == 9, run.stderr
    assert f"{wheelhouse} is read-only" in run.stderr
    assert "Nothing was changed" in run.stderr
    assert "Traceback" not in run.stderr
    assert snapshot(project) == before


@pytest.mark.parametrize("mount", ["tmpfs", "bind"])
def test_wheelhouse_on_a_mount_point(project: Path, tmp_path: Path, mount: str) -> None:
    """A writable wheelhouse that is a file system of its own, or a bind mount on the same one
    (which os.path.ismount cannot tell): the swap cannot replace it whole."""
    wheelhouse = project / "wheelhouse"
    (project / "requirements" / "base.in").write_text(BASE + "wferryfx-legacy\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    wheelhouse.mkdir(exist_ok=True)
    args = ["-t", "tmpfs", "tmpfs"] if mount == "tmpfs" else ["--bind", str(elsewhere)]
    with mounted(args, wheelhouse):
        before = snapshot(project)
        run = wheelferry("build", project=project)
        assert run.returncode == 9, run.stderr
        assert f"{wheelhouse} is a mount point" in run.stderr
        assert "Point 'wheelhouse' at a folder inside it" in run.stderr
        assert "Traceback" not in run.stderr
        assert snapshot(project) == before
        # The advice, applied.
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace(
            'requirements = [', 'wheelhouse = "wheelhouse/inside"\nrequirements = ['))
        again = wheelferry("build", project=project)
        assert again.returncode == 0, again.stderr
        assert any(p.name.startswith("wferryfx_legacy-")
                   for p in (wheelhouse / "inside").iterdir())
