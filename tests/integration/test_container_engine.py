"""The engine layer against the real engine: streamed output, containers always removed, files
owned by the caller, clear errors for a missing image or an unreachable engine, and no container
left behind when the run is interrupted (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import os
import signal
import socket
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from tests.support import TARGET_IMAGE, WHEELFERRY, index_project, interruptible

from wheelferry.core.errors import EngineError, ImageError
from wheelferry.engine.client import LABEL, ContainerSpec, DockerEngine, Engine, Mount


def unique_purpose(name: str) -> str:
    """A label value of this test's own, so that concurrent runs do not confuse the checks."""
    return f"test-{name}-{uuid.uuid4().hex[:10]}"


def labelled(client: Any, purpose: str, *, running_only: bool = False) -> list[Any]:
    found: list[Any] = client.containers.list(
        all=not running_only, filters={"label": f"{LABEL}={purpose}"}, ignore_removed=True)
    return found


def wait_for(condition: Any, *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


# -- running containers ----------------------------------------------------------------------


@pytest.mark.engine
def test_run_streams_output_and_removes_the_container(engine: Engine, docker_client: Any,
                                                      tmp_path: Path) -> None:
    purpose = unique_purpose("run")
    out = tmp_path / "out"
    out.mkdir()
    seen: list[str] = []
    kept: list[str] = []
    spec = ContainerSpec(
        image=TARGET_IMAGE,
        command=("sh", "-c", "echo first line; echo to-stderr >&2; id -u; id -g; "
                             "echo made > /out/made.txt; printf 'no newline at end'"),
        purpose=purpose,
        mounts=(Mount(out, "/out", read_only=False),),
    )
    result = engine.run(spec, on_line=seen.append, keep=lambda c: kept.append(c.id))
    assert result.ok
    assert result.exit_code == 0
    # stdout in order, stderr interleaved somewhere; a last line without newline is not lost.
    assert sorted(seen) == sorted(["first line", "to-stderr", str(os.getuid()),
                                   str(os.getgid()), "no newline at end"])
    assert [line for line in seen if line != "to-stderr"] == [
        "first line", str(os.getuid()), str(os.getgid()), "no newline at end"]
    assert list(result.tail) == seen
    # The default user is the caller: what the container writes to a mount belongs to them.
    made = out / "made.txt"
    assert made.read_text() == "made\n"
    assert (made.stat().st_uid, made.stat().st_gid) == (os.getuid(), os.getgid())
    # Removed afterwards, though it ran to the end.
    assert len(kept) == 1
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(kept[0])
    assert labelled(docker_client, purpose) == []


@pytest.mark.engine
def test_failing_command_reports_exit_code_and_tail(engine: Engine, docker_client: Any) -> None:
    purpose = unique_purpose("fail")
    spec = ContainerSpec(image=TARGET_IMAGE, purpose=purpose,
                         command=("sh", "-c", "for i in 1 2 3; do echo line $i; done; exit 3"))
    kept: list[str] = []
    result = engine.run(spec, keep=lambda c: kept.append(c.id))
    assert not result.ok
    assert result.exit_code == 3
    assert result.tail_text(2) == "line 2\nline 3"
    assert kept == [], "keep is only called for a successful run"
    assert labelled(docker_client, purpose) == []


@pytest.mark.engine
def test_explicit_user_owns_what_it_writes(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)  # capabilities are dropped: uid 1234 needs plain write permission
    spec = ContainerSpec(image=TARGET_IMAGE, purpose=unique_purpose("user"), user="1234:1234",
                         command=("sh", "-c", "id -u; touch /out/by-1234"),
                         mounts=(Mount(out, "/out", read_only=False),))
    seen: list[str] = []
    assert engine.run(spec, on_line=seen.append).ok
    assert seen == ["1234"]
    stat = (out / "by-1234").stat()
    assert (stat.st_uid, stat.st_gid) == (1234, 1234)


@pytest.mark.engine
def test_read_only_mount_cannot_be_written(engine: Engine, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    spec = ContainerSpec(image=TARGET_IMAGE, purpose=unique_purpose("ro"),
                         command=("sh", "-c", "touch /src/x"),
                         mounts=(Mount(src, "/src"),))
    result = engine.run(spec)
    assert result.exit_code != 0
    assert "Read-only file system" in result.tail_text()
    assert not (src / "x").exists()


# -- images and the engine connection ---------------------------------------------------------


@pytest.mark.engine
def test_present_image_is_found_without_pulling(engine: Engine) -> None:
    info = engine.ensure_image(TARGET_IMAGE)
    assert info.reference == TARGET_IMAGE
    assert info.id.startswith("sha256:")


@pytest.mark.engine
def test_missing_image_says_how_to_provide_it(engine: Engine) -> None:
    reference = f"wheelferry-absent/no-such-image:{uuid.uuid4().hex[:8]}"
    assert engine.image(reference) is None
    with pytest.raises(ImageError) as info:
        engine.ensure_image(reference)
    error = info.value
    assert error.exit_code == 3
    text = error.render()
    assert text.startswith("image error:")
    assert repr(reference) in text
    assert f"docker pull {reference}" in text
    assert "docker load" in text
    assert "'image' in [tool.wheelferry]" in text
    assert "Traceback" not in text


@pytest.mark.engine
def test_container_from_missing_image_is_an_image_error(engine: Engine, docker_client: Any) -> None:
    reference = f"wheelferry-absent/no-such-image:{uuid.uuid4().hex[:8]}"
    purpose = unique_purpose("noimage")
    with pytest.raises(ImageError) as info:
        engine.run(ContainerSpec(image=reference, command=("true",), purpose=purpose))
    assert repr(reference) in info.value.render()
    assert labelled(docker_client, purpose) == []


def test_unreachable_engine_names_docker_host_and_the_remedy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/nonexistent.sock")
    with pytest.raises(EngineError) as info:
        DockerEngine.connect(timeout=5)
    error = info.value
    assert error.exit_code == 3
    text = error.render()
    assert "DOCKER_HOST=unix:///tmp/nonexistent.sock" in text
    assert "does not answer" in text
    assert "Is the daemon running" in text
    assert "DOCKER_HOST right" in text


def test_podman_without_socket_says_how_to_start_it(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    if Path("/run/podman/podman.sock").exists():
        pytest.skip("this machine has a system podman socket")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(EngineError) as info:
        DockerEngine.connect("podman", timeout=5)
    text = info.value.render()
    assert "podman" in text
    assert "podman.socket" in text
    assert "DOCKER_HOST" in text


# -- interruption ----------------------------------------------------------------------------

# Runs `sleep 300` in the target image through Engine.run; "edge" wraps it in the tasks' edge
# (SIGTERM -> KeyboardInterrupt -> "interrupted", exit 130) as the CLI does.
INTERRUPTIBLE = textwrap.dedent(
    """
    import sys

    from invoke.exceptions import Exit

    from wheelferry.edge.tasks import edge
    from wheelferry.engine.client import ContainerSpec, DockerEngine

    image, purpose, mode = sys.argv[1:]
    engine = DockerEngine.connect()
    spec = ContainerSpec(image=image, command=("sleep", "300"), purpose=purpose)

    def body() -> None:
        engine.run(spec)
        print("finished without interruption", flush=True)

    if mode == "bare":
        try:
            body()
        except KeyboardInterrupt:
            print("KeyboardInterrupt reached the caller", flush=True)
            sys.exit(130)
    else:
        try:
            edge(body)()
        except Exit as stop:
            sys.exit(stop.code)
    """
)


@pytest.mark.engine
@pytest.mark.parametrize(
    ("sig", "mode"),
    [(signal.SIGINT, "bare"), (signal.SIGTERM, "edge"), (signal.SIGINT, "edge")],
    ids=["ctrl-c-engine-run", "sigterm-edge", "ctrl-c-edge"],
)
def test_interrupted_run_leaves_no_container(engine: Engine, docker_client: Any,
                                             tmp_path: Path, sig: signal.Signals,
                                             mode: str) -> None:
    purpose = unique_purpose(f"interrupt-{mode}")
    script = tmp_path / "interruptible.py"
    script.write_text(INTERRUPTIBLE)
    proc = interruptible(sys.executable, script, TARGET_IMAGE, purpose, mode)
    try:
        wait_for(lambda: proc.poll() is not None
                 or labelled(docker_client, purpose, running_only=True),
                 timeout=60, what="the sleep container to run")
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (stdout, stderr)
    assert "finished without interruption" not in stdout
    assert "Traceback" not in stderr
    if mode == "bare":
        assert "KeyboardInterrupt reached the caller" in stdout
    else:
        assert "interrupted: stopped before the end" in stderr
        assert "no container was left running" in stderr
    assert labelled(docker_client, purpose) == [], "container left behind (running or stopped)"


@pytest.fixture
def blackhole_index() -> Iterator[str]:
    """An index URL on 127.0.0.1 that accepts connections and never answers: pip waits."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/simple"
    finally:
        server.close()


@pytest.mark.engine
def test_sigterm_to_the_cli_during_lock_leaves_nothing_behind(
        engine: Engine, docker_client: Any, tmp_path: Path, blackhole_index: str) -> None:
    project = index_project(tmp_path / "project", blackhole_index, "wferryfx-pure\n")
    project_dir = str(project.resolve())

    def lock_container() -> list[Any]:
        # This project's lock container: its output folder is the project's staging folder.
        return [c for c in docker_client.containers.list(filters={"label": f"{LABEL}=lock"},
                                                         ignore_removed=True)
                if any(str(m.get("Source", "")).startswith(project_dir + "/")
                       for m in c.attrs.get("Mounts", []))]

    proc = interruptible(WHEELFERRY, "lock", "--project", project)
    try:
        found = wait_for(lambda: proc.poll() is not None or lock_container(), timeout=180,
                         what="the lock container to run")
        assert proc.poll() is None, proc.communicate()
        container_ids = [c.id for c in found]
        time.sleep(1)  # let pip reach the silent index
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "interrupted: stopped before the end" in stderr
    assert "Traceback" not in stderr
    for container_id in container_ids:
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(container_id)
    assert lock_container() == []
    assert not (project / "requirements" / "base.txt").exists(), "no lock from a stopped run"
