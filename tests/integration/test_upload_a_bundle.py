"""`wheelferry bundle` on the platform replica: one file uploaded to the home folder, run once with
`sh`, in containers with the network off, as the platform's user (chaimeleon, uid 1000), where
only ~/persistent-home survives from one start to the next.

The projects: v1 ships wferryfx-pure and wferryfx-cext; v2 (v1's project with another input,
rebuilt, so the unchanged pure wheel is reused byte for byte) ships wferryfx-needs-pure,
wferryfx-pure and wferryfx-tomlish: its delta over v1 carries needs-pure and tomlish, keeps pure
and drops cext.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import tarfile
from pathlib import Path

import pytest
from tests.fixtures.platform_replica import HOME, UID, Bind, ReplicaRun, run_in_replica
from tests.support import built_project, copy_project, index_project, wheelferry

from wheelferry.project import manifest as mf

pytestmark = pytest.mark.engine

V1 = "wferryfx-pure\nwferryfx-cext\n"
V2 = "wferryfx-needs-pure\n"
BUNDLE = f"{HOME}/wheelferry-bundle.sh"
TOOLS = f"{HOME}/persistent-home/my-tools"
OWN_LINES = "#!/bin/bash\n# my own setup\necho MY-OWN-LINE\n"
# Installed once into persistent-home, linked from the user site.
IN_USER_SITE = ("assert {module}.__file__.startswith("
                "'{HOME}/persistent-home/.my-tools.wheelferry-installs/'), {module}.__file__")
IMPORTS_V1 = "; ".join(["import wferryfx_pure, wferryfx_cext",
                        IN_USER_SITE.format(module="wferryfx_pure", HOME=HOME),
                        "assert wferryfx_cext.add(2, 3) == 5", "print('IMPORTS-V1-OK')"])
IMPORTS_V2 = "; ".join(["import wferryfx_needs_pure, wferryfx_pure, wferryfx_tomlish",
                        IN_USER_SITE.format(module="wferryfx_needs_pure", HOME=HOME),
                        IN_USER_SITE.format(module="wferryfx_tomlish", HOME=HOME),
                        "print('IMPORTS-V2-OK')"])
# python3 running the bundle's program, stopped for good (its pid in /tmp/paused) as soon as a
# wheel has been written into the staging folder: a SIGKILL there cuts the unpack off.
PAUSING_PYTHON = """\
#!/bin/sh
exec python3 -c '
import glob, os, sys, time
real_fsync = os.fsync
def pausing_fsync(fd):
    real_fsync(fd)
    if glob.glob(os.path.expanduser("~/persistent-home/.my-tools.wheelferry-staging-*/*.whl")):
        with open("/tmp/paused", "w") as out:
            out.write(str(os.getpid()))
        time.sleep(600)
os.fsync = pausing_fsync
sys.argv = sys.argv[1:]
exec(compile(sys.stdin.read(), "<bundle>", "exec"), {"__name__": "__main__"})
' "$@"
"""


# -- the projects and their bundles --------------------------------------------------------------


def bundle(project: Path, output: Path, *args: str) -> Path:
    done = wheelferry("bundle", "-o", str(output), *args, project=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == str(output), done.stdout
    return output


@pytest.fixture(scope="module")
def v1(tmp_path_factory: pytest.TempPathFactory, local_index: str) -> Path:
    return built_project(tmp_path_factory.mktemp("bundle-v1"), local_index, V1)


@pytest.fixture(scope="module")
def v1_bundle(v1: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundle(v1, tmp_path_factory.mktemp("bundles") / "v1-full.sh")


@pytest.fixture(scope="module")
def v2(v1: Path, v1_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1's project after its bundle (its state folder remembers that bundle), with a new
    input, rebuilt."""
    project = copy_project(v1, tmp_path_factory.mktemp("bundle-v2"))
    (project / "requirements" / "base.in").write_text(V2)
    done = wheelferry("build", project=project)
    assert done.returncode == 0, done.stderr
    return project


@pytest.fixture(scope="module")
def v2_delta(v2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundle(v2, tmp_path_factory.mktemp("bundles") / "v2-delta.sh", "--since", "last")


# -- the platform's persistent folder ------------------------------------------------------------


def persistent_home(root: Path) -> Path:
    """An empty ~/persistent-home that the platform's user may write in (the tests run as
    root)."""
    folder = root / "persistent-home"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    return folder


def copy_home(source: Path, root: Path) -> Path:
    """A copy of a persistent-home as a start left it: times kept (init.sh's record of the
    checked upload still matches), owned by the platform's user again."""
    folder = root / "persistent-home"
    shutil.copytree(source, folder, copy_function=shutil.copy2)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, UID, UID, follow_symlinks=False)
    return folder


def start(image: str, persistent: Path, command: str, *, bundle_file: Path | None = None,
          extra: tuple[Bind, ...] = ()) -> ReplicaRun:
    """A desktop start: a fresh container through the platform's entrypoint (which runs
    ~/persistent-home/init.sh first), then `command`; the bundle, when given, uploaded to the
    home folder."""
    binds = [Bind(persistent, f"{HOME}/persistent-home", read_only=False), *extra]
    if bundle_file is not None:
        binds.append(Bind(bundle_file, BUNDLE))
    return run_in_replica(image, ["sh", "-c", command], binds=binds, timeout=600)


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def everything(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every path under folder, hidden ones too: (mode, mtime in ns, bytes for files)."""
    return {str(p.relative_to(folder)): (p.stat().st_mode, p.stat().st_mtime_ns,
                                         p.read_bytes() if p.is_file() else b"")
            for p in [folder, *sorted(folder.rglob("*"))]}


def init_script_output(project: Path, folder: Path, existing: str | None) -> bytes:
    """init.sh as `wheelferry init-script` writes it over `existing` (None: no file yet)."""
    path = folder / "init.sh"
    if existing is not None:
        path.write_text(existing)
    done = wheelferry("init-script", "-o", str(path), project=project)
    assert done.returncode == 0, done.stderr
    return path.read_bytes()


def payload_names(bundle_file: Path) -> list[str]:
    data = bundle_file.read_bytes()
    offset = int(data.split(b"\npayload_offset=", 1)[1].split(b"\n", 1)[0])
    with bundle_file.open("rb") as handle:
        handle.seek(offset)
        with tarfile.open(fileobj=handle, mode="r:") as archive:
            return archive.getnames()


@pytest.fixture(scope="module")
def v1_home(platform_image: str, v1_bundle: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Path:
    """persistent-home after the v1 bundle ran on a fresh platform (no init.sh before)."""
    persistent = persistent_home(tmp_path_factory.mktemp("v1-home"))
    run = start(platform_image, persistent, f"sh {BUNDLE}", bundle_file=v1_bundle)
    assert run.exit_code == 0, run.stdout + run.stderr
    return persistent


# -- the tests -----------------------------------------------------------------------------------


def test_a_full_bundle_installs_now_and_at_every_start_after(
        platform_image: str, v1: Path, v1_bundle: Path, v1_home: Path, tmp_path: Path) -> None:
    persistent = persistent_home(tmp_path / "platform")
    (persistent / "init.sh").write_text(OWN_LINES)
    (persistent / "init.sh").chmod(0o666)
    run = start(platform_image, persistent,
                f"sh {BUNDLE} && python3 -c {shlex.quote(IMPORTS_V1)}", bundle_file=v1_bundle)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "IMPORTS-V1-OK" in run.stdout
    assert "this file is intact" in run.stderr
    assert f"put the new wheelhouse in place at {TOOLS}" in run.stderr
    assert f"wrote wheelferry's block into {HOME}/persistent-home/init.sh (your own lines are " \
           "unchanged)" in run.stderr
    assert f"wheelferry: installed the wheelhouse from {TOOLS}" in run.stderr
    assert "You can delete" in run.stderr
    # Exactly the wheelhouse that was built, and exactly the init.sh init-script writes, over
    # the user's own file as over none at all.
    assert files_of(persistent / "my-tools") == files_of(v1 / "wheelhouse")
    assert files_of(v1_home / "my-tools") == files_of(v1 / "wheelhouse")
    assert (persistent / "init.sh").read_bytes() == init_script_output(v1, tmp_path, OWN_LINES)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert (v1_home / "init.sh").read_bytes() == init_script_output(v1, fresh, None)
    assert sorted(os.listdir(persistent)) == [".my-tools.wheelferry-checked",
                                              ".my-tools.wheelferry-installs", "init.sh",
                                              "my-tools"]

    # The next desktop start: a fresh container, only persistent-home kept: the bundle's
    # install is linked, nothing installed again.
    after = start(platform_image, persistent, f"python3 -c {shlex.quote(IMPORTS_V1)}")
    assert after.exit_code == 0, after.stdout + after.stderr
    assert "MY-OWN-LINE" in after.stdout
    assert f"wheelferry: linked the install of {TOOLS}" in after.stderr
    assert "installed the wheelhouse" not in after.stderr
    assert "IMPORTS-V1-OK" in after.stdout


@pytest.mark.parametrize("damage", ["a byte changed in the payload", "truncated"])
def test_a_corrupted_bundle_is_refused_and_persistent_home_stays_as_it_was(
        platform_image: str, v1_bundle: Path, v1_home: Path, tmp_path: Path,
        damage: str) -> None:
    data = bytearray(v1_bundle.read_bytes())
    if damage == "truncated":
        del data[len(data) * 2 // 3:]  # an upload cut off
    else:
        data[len(data) - 5000] ^= 0x04  # inside the last wheel
    damaged = tmp_path / "wheelferry-bundle.sh"
    damaged.write_bytes(bytes(data))
    persistent = copy_home(v1_home, tmp_path / "platform")
    before = everything(persistent)
    run = start(platform_image, persistent,
                f"sh {BUNDLE}; full=$?; sh {BUNDLE} --check; echo EXITS $full $?",
                bundle_file=damaged)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "EXITS 1 1" in run.stdout, run.stdout + run.stderr
    says = "this file is truncated" if damage == "truncated" else "this file was altered"
    assert run.stderr.count(f"wheelferry-bundle: refused: {says}") == 2, run.stderr
    assert "Upload it again. Nothing was changed." in run.stderr
    assert "Traceback" not in run.stderr
    assert everything(persistent) == before


def test_a_delta_over_the_previous_upload_gives_exactly_the_new_wheelhouse(
        platform_image: str, v1: Path, v2: Path, v2_delta: Path, v1_home: Path,
        tmp_path: Path) -> None:
    # The delta carries what v1's upload lacks and the metadata; it keeps wferryfx-pure.
    kept = sorted(set(files_of(v1 / "wheelhouse").items())
                  & set(files_of(v2 / "wheelhouse").items()))
    assert [name for name, _ in kept if name.endswith(".whl")] == [
        name for name in files_of(v2 / "wheelhouse") if name.startswith("wferryfx_pure-")]
    carried = payload_names(v2_delta)
    assert carried[0] == mf.SUMS
    assert sorted(carried) == sorted(name for name in files_of(v2 / "wheelhouse")
                                     if not name.startswith("wferryfx_pure-"))
    # Only those bytes: against the full bundle of v2 (the same header), the kept wheel's bytes
    # are all that is missing (give or take its tar header and padding, and the header's note).
    full = bundle(copy_project(v2, tmp_path / "v2-copy"), tmp_path / "v2-full.sh").stat().st_size
    kept_size = sum(len(data) for name, data in kept if name.endswith(".whl"))
    assert full - 1024 - 512 < v2_delta.stat().st_size + kept_size < full + 1024

    persistent = copy_home(v1_home, tmp_path / "platform")
    run = start(platform_image, persistent,
                f"sh {BUNDLE} && python3 -c {shlex.quote(IMPORTS_V2)}", bundle_file=v2_delta)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "kept 1 wheel(s) from the wheelhouse already there (1 hard-linked)" in run.stderr
    assert "already holds this wheelferry block (unchanged)" in run.stderr
    assert "IMPORTS-V2-OK" in run.stdout
    assert files_of(persistent / "my-tools") == files_of(v2 / "wheelhouse")
    assert sorted(os.listdir(persistent)) == [".my-tools.wheelferry-checked",
                                              ".my-tools.wheelferry-installs", "init.sh",
                                              "my-tools"]

    after = start(platform_image, persistent, f"python3 -c {shlex.quote(IMPORTS_V2)}")
    assert after.exit_code == 0, after.stdout + after.stderr
    assert "IMPORTS-V2-OK" in after.stdout


@pytest.mark.parametrize("previous", ["no upload yet", "a kept wheel changed"])
def test_a_delta_over_the_wrong_previous_upload_is_refused_and_changes_nothing(
        platform_image: str, v2_delta: Path, v1_home: Path, tmp_path: Path,
        previous: str) -> None:
    if previous == "no upload yet":
        persistent = persistent_home(tmp_path / "platform")
        (persistent / "notes.txt").write_text("the user's own file\n")
        word = "missing"
    else:
        persistent = copy_home(v1_home, tmp_path / "platform")
        pure = next((persistent / "my-tools").glob("wferryfx_pure-*.whl"))
        pure.write_bytes(pure.read_bytes() + b"\0")
        word = "different"
    before = everything(persistent)
    run = start(platform_image, persistent, f"sh {BUNDLE}", bundle_file=v2_delta)
    assert run.exit_code == 1, run.stdout + run.stderr
    assert "refused: this is a delta bundle and" in run.stderr
    assert f"wferryfx_pure-1.0-py3-none-any.whl ({word})" in run.stderr
    assert "Make a full bundle" in run.stderr
    assert "Nothing was changed." in run.stderr
    assert everything(persistent) == before


def test_an_interrupted_unpack_leaves_the_old_wheelhouse_usable(
        platform_image: str, v1: Path, v2: Path, v2_delta: Path, v1_home: Path,
        tmp_path: Path) -> None:
    persistent = copy_home(v1_home, tmp_path / "platform")
    init_before = (persistent / "init.sh").read_bytes()
    pausing = tmp_path / "pausing-python"
    pausing.write_text(PAUSING_PYTHON)
    pausing.chmod(0o755)
    cut_off = start(platform_image, persistent, f"""
        WHEELFERRY_PYTHON={HOME}/pausing-python sh {BUNDLE} &
        bundle=$!
        n=0
        while [ ! -s /tmp/paused ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
        kill -KILL "$(cat /tmp/paused)" "$bundle"
        wait
        echo CUT-OFF
        """, bundle_file=v2_delta, extra=(Bind(pausing, f"{HOME}/pausing-python"),))
    assert "CUT-OFF" in cut_off.stdout, cut_off.stdout + cut_off.stderr
    # Killed half-way through the unpack: a staging folder with a wheel in it is left, and the
    # old wheelhouse and init.sh are as they were.
    staging = [p for p in persistent.iterdir() if ".wheelferry-staging-" in p.name]
    assert len(staging) == 1, os.listdir(persistent)
    assert list(staging[0].glob("*.whl"))
    assert files_of(persistent / "my-tools") == files_of(v1 / "wheelhouse")
    assert (persistent / "init.sh").read_bytes() == init_before

    after = start(platform_image, persistent, f"python3 -c {shlex.quote(IMPORTS_V1)}")
    assert after.exit_code == 0, after.stdout + after.stderr
    assert "IMPORTS-V1-OK" in after.stdout

    again = start(platform_image, persistent, f"sh {BUNDLE}", bundle_file=v2_delta)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert files_of(persistent / "my-tools") == files_of(v2 / "wheelhouse")
    assert sorted(os.listdir(persistent)) == [".my-tools.wheelferry-checked",
                                              ".my-tools.wheelferry-installs", "init.sh",
                                              "my-tools"]


# -- the command on this machine -----------------------------------------------------------------


def test_the_default_bundle_is_in_the_project_and_its_path_is_the_last_line(
        v1: Path, tmp_path: Path) -> None:
    project = copy_project(v1, tmp_path)
    done = wheelferry("bundle", project=project)
    assert done.returncode == 0, done.stderr
    path = project / "wheelferry-bundle.sh"
    assert done.stdout.splitlines() == [str(path)]
    assert f"wrote {path}: a full wheelhouse: " in done.stderr
    assert f"sh ~/{path.name}" in done.stderr
    # Not proven by verify in this project: said before the upload, as init-script says it.
    assert "is not the one 'wheelferry verify' last proved" in done.stderr
    sums = (project / "wheelhouse" / mf.SUMS).read_bytes()
    copy = project / ".wheelferry" / "bundles" / f"{hashlib.sha256(sums).hexdigest()}.SHA256SUMS"
    assert copy.read_bytes() == sums


def test_without_a_wheelhouse_or_a_previous_bundle_it_says_what_to_do(
        tmp_path: Path, local_index: str) -> None:
    project = index_project(tmp_path / "project", local_index, V1)
    done = wheelferry("bundle", project=project)
    assert done.returncode == 10, done.stderr
    assert "bundle failed: there is no wheelhouse at" in done.stderr
    assert "Run 'wheelferry build'" in done.stderr
    since = wheelferry("bundle", "--since", "last", project=project)
    assert since.returncode == 10, since.stderr
    assert "no bundle of this project was made yet" in since.stderr
    assert not (project / "wheelferry-bundle.sh").exists()
