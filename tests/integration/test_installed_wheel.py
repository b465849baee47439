"""Packaging proven: wheelferry's own wheel, built from this checkout, ships exactly its package
(the modules, py.typed and the in-container scripts) and works when installed from the wheel, not
editable, in a fresh virtual environment: that environment's `wheelferry` builds and verifies a
small fixture project.

Installing wheelferry's dependencies (and setuptools for the isolated build) reaches the public
index, hence the pypi mark."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import ssl
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename
from tests.support import write_project

pytestmark = [pytest.mark.engine, pytest.mark.pypi]

REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIR = "src/wheelferry/"


def run(*command: str | Path, cwd: Path | None = None,
        timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run a command with the test process's environment (pip isolated from the host's config by
    conftest); output captured as text, the exit code left to the caller."""
    return subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout, check=False)


def host_ca_bundle() -> str | None:
    """The host's system CA bundle, which pip needs to reach the index here (pip's own is not
    enough behind the proxy), or None when the host has none."""
    cafile = ssl.get_default_verify_paths().cafile
    return cafile if cafile and Path(cafile).is_file() else None


def pip_cert() -> list[str]:
    cafile = host_ca_bundle()
    return ["--cert", cafile] if cafile else []


def source_files() -> list[str]:
    """The checkout's files as git sees them, relative to the root: tracked ones, plus new ones
    not ignored (a module just added, not yet committed, must ship too). Build output, caches and
    virtual environments are ignored, so they never reach the wheel's inputs."""
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO)
    assert listed.returncode == 0, listed.stderr
    return sorted(name for name in listed.stdout.split("\0") if name and (REPO / name).is_file())


def expected_contents() -> set[str]:
    """What the wheel must hold outside .dist-info: every module under src/wheelferry (the
    in-container scripts included) and the py.typed marker, at their place in the package."""
    return {name.removeprefix("src/") for name in source_files()
            if name.startswith(PACKAGE_DIR) and (name.endswith(".py")
                                                 or name == f"{PACKAGE_DIR}py.typed")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """wheelferry's wheel, built by pip from a copy of the checkout (building in place would
    leave build/ and an egg-info in the work tree)."""
    scratch = tmp_path_factory.mktemp("wheel")
    source = scratch / "source"
    for name in source_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    out = scratch / "dist"
    # An absolute path: a bare folder name would be taken for a project on the index.
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", *pip_cert(), "-w", out,
                source.resolve(), cwd=scratch)
    assert built.returncode == 0, built.stdout + built.stderr
    wheels = sorted(out.glob("*.whl"))
    assert [w.name.split("-")[0] for w in wheels] == ["wheelferry"], wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh virtual environment (no system site-packages) with the wheel installed, not
    editable, and its dependencies from the index.

    pip and pip-tools are pinned to the versions beside the test process: wheelferry keys its
    toolchain image on them, so the installed copy reuses the one the session prepared from the
    public index (fixture projects set ca-bundle = "none": their containers cannot reach it)."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    made = run(sys.executable, "-m", "venv", root)
    assert made.returncode == 0, made.stderr
    assert "include-system-site-packages = false" in (root / "pyvenv.cfg").read_text()
    same_toolchain = [f"{name}=={importlib.metadata.version(name)}"
                      for name in ("pip", "pip-tools")]
    installed = run(root / "bin" / "python", "-m", "pip", "install", *pip_cert(), wheel,
                    *same_toolchain)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return root


def test_the_wheel_ships_exactly_the_package(wheel: Path) -> None:
    name, _, _, tags = parse_wheel_filename(wheel.name)
    assert name == "wheelferry"
    assert {str(tag) for tag in tags} == {"py3-none-any"}
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if not m.endswith("/")]
        info = next(m.split("/")[0] for m in members if m.endswith(".dist-info/RECORD"))
        shipped = {m for m in members if not m.startswith(f"{info}/")}
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert "__pycache__" not in " ".join(shipped)
    assert shipped == expected_contents()
    assert {"wheelferry/py.typed", "wheelferry/incontainer/prove_install.py"} <= shipped
    # Nothing else lies in the package's source folder: a new data file there must be added to
    # pyproject's package-data (and to this test) rather than silently left out of the wheel.
    others = [n for n in source_files() if n.startswith(PACKAGE_DIR)
              and n.removeprefix("src/") not in shipped]
    assert others == []
    assert "wheelferry = wheelferry.edge.cli:main" in entry_points


def test_the_installed_wheel_builds_and_verifies(venv: Path, local_index: str,
                                                 tmp_path: Path) -> None:
    where = run(venv / "bin" / "python", "-c", "import wheelferry; print(wheelferry.__file__)",
                cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    module = Path(where.stdout.strip()).resolve()
    assert module.is_relative_to(venv.resolve()), module
    assert not module.is_relative_to(REPO), module

    project = write_project(tmp_path / "project",
                            {"base.in": "wferryfx-needs-pure\nwferryfx-cext\n"},
                            **{"index-url": local_index, "network": "host", "ca-bundle": "none"})
    wheelferry = venv / "bin" / "wheelferry"
    assert os.access(wheelferry, os.X_OK)

    built = run(wheelferry, "build", "--project", project, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    wheels: dict[str, str] = {parse_wheel_filename(w.name)[0]: w.name
                              for w in (project / "wheelhouse").glob("*.whl")}
    assert set(wheels) == {"wferryfx-needs-pure", "wferryfx-pure", "wferryfx-tomlish",
                           "wferryfx-cext"}
    assert "-cp310-" in wheels["wferryfx-cext"]
    assert (project / "wheelhouse" / "SHA256SUMS").is_file()

    verified = run(wheelferry, "verify", "--project", project, cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert "proven: the wheelhouse installs offline" in verified.stderr
