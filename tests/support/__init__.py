"""Helpers shared by the tests, and the only place for them: the target, fixture projects, locks
written without pip, the real CLI run on a project, and the checks that a run changed nothing
and left nothing behind. (conftest.py holds only fixtures and hooks; tests never import it.)"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import shutil
import ssl
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import docker
from filelock import FileLock
from packaging.utils import canonicalize_name
from packaging.version import Version

from wheelferry.engine.client import Engine
from wheelferry.engine.specs import SCRIPTS_DIR
from wheelferry.locking.freshness import fingerprint, header_line
from wheelferry.locking.project import read_project
from wheelferry.project.config import load_options
from wheelferry.project.layout import LockEntry, lock_path
from wheelferry.project.options import Options
from wheelferry.project.requirements import Pin
from wheelferry.target.image import ensure_toolchain as ensure_target_toolchain

TARGET_PYTHON = "3.10"
TARGET_IMAGE = f"python:{TARGET_PYTHON}"
WHEELFERRY = str(Path(sys.executable).parent / "wheelferry")
LEGACY_OVERRIDE = {"wferryfx-legacy": {"build-requires": ["wferryfx-buildhelper"],
                                       "no-build-isolation": True}}


# -- fixture projects -----------------------------------------------------------------------------


def write_project(path: Path, requirements: dict[str, str], **settings: Any) -> Path:
    """A project folder: pyproject.toml with [tool.wheelferry] and requirements/*.in."""
    (path / "requirements").mkdir(parents=True, exist_ok=True)
    for name, text in requirements.items():
        (path / "requirements" / name).write_text(textwrap.dedent(text).lstrip())
    table: dict[str, Any] = {"python": TARGET_PYTHON, "image": TARGET_IMAGE,
             "requirements": [f"requirements/{name}" for name in requirements]}
    table.update(settings)
    overrides: dict[str, dict[str, Any]] = table.pop("overrides", {})
    lines = ["[tool.wheelferry]"]
    lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
    for name, body in overrides.items():
        lines.append(f"\n[tool.wheelferry.overrides.{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in body.items()]
    (path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(value)


def project_options(folder: Path, requirements: dict[str, str], **settings: Any) -> Options:
    """The options of a project written in folder/project (no CA bundle unless one is set)."""
    settings.setdefault("ca-bundle", "none")
    return load_options(write_project(folder / "project", requirements, **settings))


def index_project(path: Path, index_url: str, requirements: str, **settings: Any) -> Path:
    """A project with one input, requirements/base.in, that resolves and builds from
    `index_url` alone, on the host's network (the local index listens on its loopback)."""
    settings = {"index-url": index_url, "network": "host", "ca-bundle": "none", **settings}
    return write_project(path, {"base.in": requirements}, **settings)


def built_project(folder: Path, index_url: str, requirements: str,
                  **settings: Any) -> Path:
    """folder/project on the index (see index_project), built once by the real CLI."""
    project = index_project(folder / "project", index_url, requirements, **settings)
    done = wheelferry("build", project=project)
    assert done.returncode == 0, done.stderr
    return project


def copy_project(built: Path, folder: Path) -> Path:
    """A private copy, folder/project, of a built project, for a test that changes it."""
    copy = folder / "project"
    shutil.copytree(built, copy)
    return copy


def set_index_url(project: Path, url: str) -> None:
    """Point the project's pyproject.toml at another index."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    start = text.index('index-url = "') + len('index-url = "')
    pyproject.write_text(text.replace(text[start:text.index('"', start)], url))


# -- locks written without pip --------------------------------------------------------------------


def sha(text: str) -> str:
    """A stand-in sha256 (of `text`) for a file that does not exist."""
    return hashlib.sha256(text.encode()).hexdigest()


# A lock's body as pip-compile writes it: pins with hashes across continuation lines.
LOCK_BODY = f"""\
#
# This file is autogenerated by pip-compile with Python 3.10
# by the following command:
#
#    wheelferry lock
#
wferryfx-needs-pure==1.0 \\
    --hash=sha256:{sha("needs-pure")}
    # via -r requirements/base.in
wferryfx-pure==1.0 \\
    --hash=sha256:{sha("pure-sdist")} \\
    --hash=sha256:{sha("pure-wheel")}
    # via wferryfx-needs-pure
wferryfx-tomlish==1.0 ; python_version < "3.11" \\
    --hash=sha256:{sha("tomlish")}
    # via wferryfx-needs-pure
"""


def pin(name: str, version: str, hashes: set[str], lock: Path) -> Pin:
    """A Pin as read_lock makes it from the line `name==version`."""
    return Pin(canonicalize_name(name), Version(version), frozenset(hashes),
               f"{name}=={version}", lock)


def write_fresh_lock(options: Options, name: str, body: str = LOCK_BODY) -> Path:
    """The lock of requirements/`name` as `wheelferry lock` leaves it: its header fingerprints
    the current inputs."""
    source = options.project_dir / "requirements" / name
    entry = LockEntry(source, lock_path(source))
    project = read_project(options)
    entry.lock.write_text(header_line(project, fingerprint(project, entry, {})) + body)
    return entry.lock


# -- the real CLI ---------------------------------------------------------------------------------


def wheelferry(*args: str, project: Path | None = None, env: Mapping[str, str] | None = None,
               timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run `wheelferry ARGS [--project PROJECT]`; output captured as text, the exit code left to
    the caller."""
    command = [WHEELFERRY, *args]
    if project is not None:
        command += ["--project", str(project)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout,
                          check=False)


# Run by the interpreter in front of the command a test interrupts: SIGINT back at its default,
# then exec (same pid: a signal sent to the Popen reaches the command itself). A process inherits
# an ignored SIGINT (a suite started in the background of a script, or under nohup), and Python
# then never turns SIGINT into KeyboardInterrupt. No preexec_fn: the test process has threads.
_SIGINT_AT_ITS_DEFAULT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                          "os.execvp(sys.argv[1], sys.argv[1:])")


def interruptible(*command: str | Path, cwd: Path | None = None,
                  env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """Start a command that the test will interrupt with a signal (Ctrl-C, SIGTERM), with
    SIGINT at its default however the suite was launched; stdout and stderr captured as text."""
    return subprocess.Popen([sys.executable, "-c", _SIGINT_AT_ITS_DEFAULT, *map(str, command)],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def build_fails(project: Path, *, code: int, says: list[str],
                env: dict[str, str] | None = None) -> str:
    """Run build; check exit code, message, no traceback, nothing changed. Returns stderr."""
    before = snapshot(project)
    run = wheelferry("build", project=project, env=env)
    assert run.returncode == code, run.stderr
    for text in says:
        assert text in run.stderr, f"{text!r} not in:\n{run.stderr}"
    assert "Traceback" not in run.stderr + run.stdout
    assert snapshot(project) == before
    assert staging_left(project) == []
    return run.stderr


def snapshot(project: Path) -> dict[str, bytes]:
    """Every file of the wheelhouse and of the locks, by relative path (the .in inputs are the
    user's and left out)."""
    return {str(p.relative_to(project)): p.read_bytes()
            for folder in ("wheelhouse", "requirements")
            for p in sorted((project / folder).rglob("*"))
            if p.is_file() and p.suffix != ".in"}


def staging_left(project: Path) -> list[str]:
    """Staging or moved-aside folders a run left in the project (their names hold
    '.wheelferry-')."""
    return sorted(p.name for p in project.iterdir() if ".wheelferry-" in p.name)


# -- logs ------------------------------------------------------------------------------------------


# A lock's log where an old sdist's setup.py failed deep in pip's output (the diagnosis and the
# log's readable end both read it).
OLD_SDIST_LOG = "".join(
    ["$ pip-compile --generate-hashes requirements/base.in\n",
     "  Getting requirements to build wheel: started\n",
     "  Getting requirements to build wheel: finished with status 'error'\n",
     "  error: subprocess-exited-with-error\n",
     "      Traceback (most recent call last):\n",
     '        File "setup.py", line 9, in <module>\n',
     "          from wferryfx_buildtool import old_api\n",
     "      AttributeError: module 'wferryfx_buildtool' has no attribute 'old_api'\n",
     "      [end of output]\n",
     "  note: This error originates from a subprocess, and is likely not a problem with pip.\n"]
    + [f"    pip._vendor.resolvelib: frame {n}\n" for n in range(40)]
    + ["pip._internal.exceptions.FailedToPrepareCandidate: Failed to build 'wferryfx-oldsdist' "
       "when getting requirements to build wheel\n"])


# -- the engine -----------------------------------------------------------------------------------


def ensure_toolchain(engine: Engine, scratch: Path) -> None:
    """The toolchain image (the target plus pip-tools) is made from the public index, where
    pip-tools lives; fixture projects then lock and build against the local index alone."""
    options = load_options(write_project(scratch / "project", {"base.in": "six\n"}))
    # One test session makes it; another that wants it meanwhile waits, then finds it.
    with FileLock(Path(tempfile.gettempdir()) / "wheelferry-tests-toolchain.lock"):
        base = engine.ensure_image(options.target.image)
        ensure_target_toolchain(engine, options, base, lambda line: None)


def host_ca_bundle() -> str | None:
    """The host's system CA bundle, when it has one (for the few public-index tests)."""
    cafile = ssl.get_default_verify_paths().cafile
    return cafile if cafile and Path(cafile).is_file() else None


def run_script(client: docker.DockerClient, script: str, *, timeout: int = 600,
               **container: Any) -> tuple[int, str]:
    """Run a bash script in the target image outside wheelferry (`container`: the SDK's
    run() options: network_mode, user, volumes, ...); (exit code, output), the container
    removed."""
    started = client.containers.run(TARGET_IMAGE, ["bash", "-c", script], detach=True,
                                    **container)
    try:
        status = started.wait(timeout=timeout)
        output: bytes = started.logs(stdout=True, stderr=True)
        return int(status["StatusCode"]), output.decode("utf-8", "replace")
    finally:
        started.remove(force=True)


def make_wheel(folder: Path, name: str, members: dict[str, bytes]) -> Path:
    """A wheel zip with a .dist-info, a Python module, and `members` (e.g. compiled files)."""
    dist_info = f"{name.split('-')[0]}-{name.split('-')[1]}.dist-info"
    wheel = folder / name
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{dist_info}/METADATA", "Metadata-Version: 2.1\nName: x\nVersion: 1.0\n")
        archive.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n")
        archive.writestr(f"{name.split('-')[0]}/__init__.py", "from ._native import start\n")
        for member, data in members.items():
            archive.writestr(member, data)
        archive.writestr(f"{dist_info}/RECORD", "")
    return wheel


def incontainer_script(name: str) -> ModuleType:
    """An in-container script, src/wheelferry/incontainer/NAME.py, loaded from its file as the
    container runs it: it is no package module (its scripts run standalone)."""
    spec = importlib.util.spec_from_file_location(f"wheelferry_{name}", SCRIPTS_DIR / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# -- a review -------------------------------------------------------------------------------------


def sample_review(**changes: Any) -> Any:
    """A review of a small wheelhouse (one wheel downloaded, one built, one provided by the
    platform, one advisory) as reviewpack.gather makes it; `changes` replace its fields."""
    from dataclasses import replace

    from wheelferry.bundling import review as rv
    from wheelferry.proving.vulnerabilities import Advisory

    dists = (
        rv.Distribution(name="attrs", version="25.1.0", licence="MIT",
                        licence_source="License-Expression", licence_note="",
                        summary="Classes without boilerplate", homepage="https://attrs.org",
                        origin="downloaded", wheel="attrs-25.1.0-py3-none-any.whl",
                        wheel_sha256="a" * 64, size=1000, vulnerabilities="checked"),
        rv.Distribution(name="oldlib", version="1.0", licence="unknown",
                        licence_source="unknown", licence_note="BSD-ish, see <LICENSE>",
                        summary="An old library", homepage="", origin="built",
                        wheel="oldlib-1.0-cp310-cp310-linux_x86_64.whl", wheel_sha256="b" * 64,
                        size=2000,
                        build=rv.Build(sdist="oldlib-1.0.tar.gz", sdist_sha256="c" * 64,
                                       image="python:3.10", image_digest="sha256:" + "d" * 64,
                                       build_requires=("setuptools==80.0",),
                                       grafted_libraries=("libpq-1234abcd.so.5",)),
                        requires=("attrs", "numpy"), vulnerabilities="checked",
                        advisories=(Advisory(id="PYSEC-2026-1", aliases=("CVE-2026-1",),
                                             summary="a <script> in a summary",
                                             fixed_in=("1.1",)),)),
        rv.Distribution(name="numpy", version="1.26.4", licence="", licence_source="",
                        licence_note="", summary="", homepage="", origin="provided",
                        vulnerabilities=""),
    )
    review = rv.Review(
        project="demo", generated_at="2026-12-05T17:00:00+00:00",
        platform=rv.Platform(python="3.10", python_version="3.10.16", arch="x86_64",
                             image="python:3.10", image_digest="sha256:" + "d" * 64,
                             install_dir="~/persistent-home/my-tools",
                             platform_image="ws:1", provided_source="ws:1"),
        sums_sha256="e" * 64, distributions=dists,
        proof=rv.Proof(proven=True, at="2026-12-05T16:00:00+00:00", image="ws:1"),
        vulnerabilities=rv.Vulnerabilities(status="checked", source="https://pypi.org",
                                           checked_at="2026-12-05T17:00:00+00:00", found=1),
        licences=rv.licence_rows(dists, ()))
    return replace(review, **changes)


# -- wheelhouses made by hand (the platform side's tests) ----------------------------------------


def pure_wheel(folder: Path, name: str, version: str, module: str, *, script: str = "") -> Path:
    """A pure-Python wheel with one module (VALUE = version, main() prints RAN and it) and
    optionally a console script running main, with a RECORD pip accepts."""
    stem = name.replace("-", "_")
    dist_info = f"{stem}-{version}.dist-info"
    members = {
        f"{module}.py": f"VALUE = {version!r}\ndef main():\n    print('RAN', VALUE)\n".encode(),
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        .encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n",
    }
    if script:
        members[f"{dist_info}/entry_points.txt"] = (
            f"[console_scripts]\n{script} = {module}:main\n".encode())
    record = []
    for member, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{member},sha256={digest},{len(data)}")
    members[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
                                      ).encode()
    path = folder / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def made_wheelhouse(folder: Path, wheels: list[tuple[str, str, str, str]],
                         provided: dict[str, str] | None = None) -> Path:
    """A wheelhouse laid out as `build` writes it (wheels, requirements with hashes, manifest
    with the provided versions, SHA256SUMS) from (name, version, module, console script)."""
    from wheelferry.project import manifest as mf

    if folder.exists():
        for path in folder.iterdir():
            path.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    lines, sums = [], []
    for name, version, module, script in wheels:
        path = pure_wheel(folder, name, version, module, script=script)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{name}=={version} --hash=sha256:{digest}")
        sums.append((path.name, digest))
    (folder / mf.REQUIREMENTS).write_text("\n".join(lines) + "\n")
    (folder / mf.MANIFEST).write_text(json.dumps({"provided": provided or {},
                                                  "provided_source": "platform.txt"}))
    for name in mf.METADATA_FILES:
        sums.append((name, hashlib.sha256((folder / name).read_bytes()).hexdigest()))
    (folder / mf.SUMS).write_text(mf.sums_text(sorted(sums)))
    return folder
