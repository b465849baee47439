"""Nothing let in: hash-checking of what enters the wheelhouse, no escape from the project through
names, no injection, containers with only what they need, files that belong to the caller."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version
from tests.support import (
    LEGACY_OVERRIDE,
    WHEELFERRY,
    build_fails,
    built_project,
    copy_project,
    write_project,
)

from wheelferry.building.fetch import check_wheel
from wheelferry.commands import flows as commands
from wheelferry.core.errors import BuildError
from wheelferry.core.report import Reporter
from wheelferry.engine.client import ContainerSpec, DockerEngine
from wheelferry.project.config import load_options
from wheelferry.project.requirements import Pin, read_lock


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, local_index: str) -> Path:
    return built_project(tmp_path_factory.mktemp("security"), local_index,
                         "wferryfx-needs-pure\nwferryfx-legacy\n", overrides=LEGACY_OVERRIDE)


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    return copy_project(built, tmp_path)


@pytest.mark.engine
def test_a_file_that_does_not_match_the_lock_never_enters(project: Path) -> None:
    """The index serves a file whose hash the lock does not allow: the build refuses it."""
    lock = project / "requirements" / "base.txt"
    text = lock.read_text()
    start = text.index("wferryfx-pure==1.0")
    digest = re.search(r"sha256:([0-9a-f]{64})", text[start:])
    assert digest is not None
    lock.write_text(text.replace(digest.group(1), "0" * 64))
    # Force wferryfx-pure to be fetched again: its wheel is no longer in the wheelhouse.
    wheel = next((project / "wheelhouse").glob("wferryfx_pure-*.whl"))
    wheel.unlink()
    build_fails(project, code=5, says=["wferryfx-pure==1.0", "does not match the hash in the lock"])


@pytest.mark.engine
def test_build_requirements_of_overrides_are_pinned_and_recorded(built: Path) -> None:
    manifest = json.loads((built / "wheelhouse" / "wheelferry-manifest.json").read_text())
    legacy = next(w for w in manifest["wheels"] if w["name"] == "wferryfx-legacy")
    lock = (built / "requirements" / "base.txt").read_text()
    assert "wferryfx-buildhelper==2.0" in lock
    # Built against the locked helper (hash-checked from the lock), recorded with its version.
    assert "wferryfx_buildhelper==2.0" in legacy["build_requires"]
    # Every build requirement, setuptools and wheel included, comes from the build lock, which
    # pins each with hashes, constrained by the project's lock.
    build_lock = {str(p.name): p for p in read_lock(built / "requirements" /
                                                    "wheelferry-build.txt")}
    assert str(build_lock["wferryfx-buildhelper"].version) == "2.0"
    assert all(pin.hashes for pin in build_lock.values())
    for installed in legacy["build_requires"]:
        name, version = installed.split("==")
        assert str(build_lock[canonicalize_name(name)].version) == version, installed


@pytest.mark.engine
@pytest.mark.parametrize("line", [
    "../../../etc/passwd",
    "-r ../../outside.in",
    "-c /etc/passwd",
    'wferryfx-pure; python_version > "3" $(touch /tmp/wheelferry-pwned)',
    "wferryfx-pure`touch /tmp/wheelferry-pwned`",
], ids=["path", "reference-up", "absolute-constraint", "marker-injection", "backticks"])
def test_hostile_requirement_lines_are_refused(project: Path, line: str) -> None:
    (project / "requirements" / "base.in").write_text(f"wferryfx-needs-pure\n{line}\n")
    build_fails(project, code=4, says=["requirements/base.in line 2"])
    assert not Path("/tmp/wheelferry-pwned").exists()


def test_hostile_override_name_is_a_config_error(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"base.in": "six\n"})
    with (project / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.wheelferry.overrides."x; rm -rf ~"]\nno-build-isolation = true\n')
    run = subprocess.run([WHEELFERRY, "lock", "--project", str(project)], capture_output=True,
                         text=True)
    assert run.returncode == 2
    assert "is not a package name" in run.stderr


@pytest.mark.parametrize("name", ["../evil-1.0-py3-none-any.whl",
                                  "sub/evil-1.0-py3-none-any.whl",
                                  ".evil-1.0-py3-none-any.whl"])
def test_wheel_names_from_the_container_cannot_escape(name: str) -> None:
    pin = Pin(name="evil", version=Version("1.0"),  # type: ignore[arg-type]
              hashes=frozenset({"sha256:" + "0" * 64}), requirement="evil==1.0",
              lock=Path("base.txt"))
    with pytest.raises(BuildError, match="not a plain wheel file name"):
        check_wheel(name, pin, frozenset())


@pytest.fixture
def recorded_specs(monkeypatch: pytest.MonkeyPatch) -> list[ContainerSpec]:
    """Observe (not replace) every container the real engine is asked to create."""
    specs: list[ContainerSpec] = []
    original = DockerEngine.container

    def observing(self: DockerEngine, spec: ContainerSpec, **kwargs: Any) -> Any:
        specs.append(spec)
        return original(self, spec, **kwargs)

    monkeypatch.setattr(DockerEngine, "container", observing)
    return specs


@pytest.mark.engine
def test_containers_get_only_what_they_need(project: Path, recorded_specs: list[ContainerSpec],
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # A user cache of its own: the target's probe is remembered there, and must run here.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    (project / "requirements" / "base.in").write_text(
        "wferryfx-needs-pure\nwferryfx-legacy\nwferryfx-cext\n")
    options = load_options(project)
    commands.build(options, reporter=Reporter())
    commands.verify(options, reporter=Reporter())
    purposes = [spec.purpose for spec in recorded_specs]
    assert {"probe", "lock", "build", "verify"} <= set(purposes)
    for spec in recorded_specs:
        for mount in spec.mounts:
            assert "docker.sock" not in str(mount.source)
            if mount.source == project:
                assert mount.read_only, spec.purpose
            if not mount.read_only and spec.purpose != "verify":
                # Writable: only a staging folder inside the project's scratch areas, or the cache.
                assert mount.target in ("/out", "/wheelferry/cache"), (spec.purpose, mount)
        assert spec.network in ("host", "none"), spec.purpose  # host: configured for this test
        assert spec.user != "0:0" or spec.purpose == "toolchain"
    proof = next(s for s in recorded_specs if s.purpose == "verify")
    assert proof.network == "none"
    assert proof.user is not None
    assert not proof.user.startswith("0:")
    # The desktop start writes only where a desktop does: its home and ~/persistent-home, both
    # scratch folders made for this proof in the state folder; the wheelhouse is read-only.
    scratch = project / ".wheelferry"
    for mount in proof.mounts:
        if not mount.read_only:
            assert scratch in mount.source.parents, mount
            assert mount.source.name in ("home", "persistent-home"), mount
    wheelhouse = [m for m in proof.mounts if m.source == project / "wheelhouse"]
    assert len(wheelhouse) == 1
    assert wheelhouse[0].read_only


@pytest.mark.engine
def test_files_belong_to_the_invoking_user(built: Path) -> None:
    """Run wheelferry as an ordinary user (when the tests run as root) and check ownership of
    everything it wrote: locks, wheelhouse, init.sh."""
    scratch = Path(tempfile.mkdtemp(prefix="wheelferry-owner-"))
    try:
        os.chmod(scratch, 0o755)
        project = scratch / "project"
        shutil.copytree(built, project)
        shutil.rmtree(project / "wheelhouse")
        (project / "requirements" / "base.txt").unlink()
        shutil.rmtree(project / ".wheelferry", ignore_errors=True)
        home = scratch / "home"
        home.mkdir()
        if os.getuid() == 0:
            uid = gid = 4321
            for path in [scratch, *scratch.rglob("*")]:
                os.chown(path, uid, gid)
            socket_gid = os.stat("/var/run/docker.sock").st_gid
            prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}",
                      f"--groups={socket_gid}", "--"]
        else:
            uid, gid, prefix = os.getuid(), os.getgid(), []
        env = {**os.environ, "HOME": str(home)}
        env.pop("XDG_CACHE_HOME", None)
        env.pop("WHEELFERRY_WHEEL_CACHE", None)  # its default place: the wheel cache in home
        for task in ("build", "init-script"):
            run = subprocess.run([*prefix, WHEELFERRY, task, "--project", str(project)],
                                 capture_output=True, text=True, env=env)
            assert run.returncode == 0, run.stderr
        written = [project / "requirements" / "base.txt", project / "init.sh",
                   *(project / "wheelhouse").iterdir(), project / "wheelhouse"]
        for path in written:
            info = path.stat()
            assert (info.st_uid, info.st_gid) == (uid, gid), path
        cache = [p for p in (home / ".cache").rglob("*")]
        assert cache
        assert list((home / ".cache" / "wheelferry" / "built-wheels").glob("*/*.whl"))
        assert all(p.stat().st_uid == uid for p in cache)
        assert stat.S_IMODE((project / "init.sh").stat().st_mode) & 0o100
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
