"""A new user's first run (issue 22): from an empty folder to a proven bundle with `init`, `build`,
`verify` and `bundle`, no file written by hand; `--json` of build and verify parse and carry the
facts their text says; `wheelferry cache` keeps what a running build uses. Real engine, real pip,
the local fixture index."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support import WHEELFERRY, interruptible, wheelferry

from wheelferry.building.wheelcache import ENV, RECORD

pytestmark = pytest.mark.engine

PAUSED_TAKE = Path(__file__).parents[1] / "fixtures" / "paused_take.py"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([WHEELFERRY, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900, check=False)
    assert "Traceback" not in done.stdout + done.stderr
    return done


def test_from_an_empty_folder_to_a_proven_bundle(local_index: str, tmp_path: Path) -> None:
    folder = tmp_path / "analysis"
    folder.mkdir()
    started = run("init", "wferryfx-needs-pure", "wferryfx-cext", "--index-url", local_index,
                  cwd=folder)
    assert started.returncode == 0, started.stderr
    assert "next: wheelferry build" in started.stderr

    built = run("build", "--json", cwd=folder)
    assert built.returncode == 0, built.stderr
    document = json.loads(built.stdout)  # the one document on stdout; progress on stderr
    assert document["schema"] == 1
    assert document["ok"] is True
    wheels = {w["name"]: w for w in document["wheels"]}
    assert set(wheels) == {"wferryfx-needs-pure", "wferryfx-pure", "wferryfx-tomlish",
                           "wferryfx-cext"}
    summary = document["summary"]
    # The text's summary line says the same.
    assert (f"{summary['wheels']} wheels ({summary['built']} built from sdists, "
            f"{summary['downloaded']} downloaded)") in built.stderr
    assert f"for python {document['target']['version']} on {document['target']['arch']}" \
        in built.stderr
    for name, wheel in wheels.items():
        assert wheel["this_run"] == wheel["origin"] == "built"
        assert (folder / "wheelhouse" / wheel["file"]).is_file()
        assert re.search(rf"{name}\s+1\.0\s+built", built.stderr), name

    again = run("build", "--json", cwd=folder)
    assert again.returncode == 0, again.stderr
    assert {w["this_run"] for w in json.loads(again.stdout)["wheels"]} == {"reused"}

    verified = run("verify", "--json", cwd=folder)
    assert verified.returncode == 0, verified.stderr
    proof = json.loads(verified.stdout)
    assert proof["ok"] is True
    assert proof["proven"] is True
    assert proof["wheels"] == 4
    assert f"{proof['wheels']} wheels match SHA256SUMS" in verified.stderr
    assert (f"proven: the wheelhouse installs offline with the generated init.sh in "
            f"{proof['proof']['image']}") in verified.stderr
    assert f"network off, as {proof['proof']['user']}" in verified.stderr
    assert proof["warnings"] == []

    bundled = run("bundle", cwd=folder)
    assert bundled.returncode == 0, bundled.stderr
    path = Path(bundled.stdout.strip().splitlines()[-1])
    assert path == folder / "wheelferry-bundle.sh"
    assert path.is_file()
    assert subprocess.run(["sh", str(path), "--check"], capture_output=True,
                          check=False).returncode == 0

    status = json.loads(run("status", "--json", cwd=folder).stdout)
    assert status["ready"] is True
    # Every file in the project was written by wheelferry.
    written = sorted(p.relative_to(folder).as_posix() for p in folder.iterdir())
    assert "pyproject.toml" in written
    assert "requirements" in written


def test_verify_json_failure_is_json_with_its_exit_code(local_index: str, tmp_path: Path) -> None:
    folder = tmp_path / "p"
    assert run("init", "wferryfx-pure", "--index-url", local_index, "-p", str(folder),
               cwd=tmp_path).returncode == 0
    assert run("build", "-q", "-p", str(folder), cwd=tmp_path).returncode == 0
    wheel = next((folder / "wheelhouse").glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    failed = run("verify", "--static", "--json", "-p", str(folder), cwd=tmp_path)
    assert failed.returncode == 6
    document = json.loads(failed.stdout)
    assert document["ok"] is False
    assert document["error"]["exit_code"] == 6
    assert wheel.name in document["error"]["details"]
    assert "verification failed" in failed.stderr


def test_pruning_while_a_build_runs_keeps_what_it_uses(local_index: str, tmp_path: Path) -> None:
    cache = Path(os.environ[ENV])
    first = tmp_path / "first"
    assert run("init", "wferryfx-cext", "--index-url", local_index, "-p", str(first),
               cwd=tmp_path).returncode == 0
    assert run("build", "-p", str(first), cwd=tmp_path).returncode == 0
    (key,) = [p.name for p in cache.iterdir() if (p / RECORD).is_file()]

    # A second project needs the same sdist: its build finds the entry, then pauses right
    # before taking it, while the cache is pruned to nothing and cleaned.
    second = tmp_path / "second"
    assert run("init", "wferryfx-cext", "wferryfx-pure", "--index-url", local_index, "-p",
               str(second), cwd=tmp_path).returncode == 0
    paused, go = tmp_path / "paused", tmp_path / "go"
    building = interruptible(sys.executable, PAUSED_TAKE, paused, go, "build", "-p", second)
    try:
        deadline = time.monotonic() + 600
        while not paused.exists():
            assert building.poll() is None, building.communicate()
            assert time.monotonic() < deadline, "the build never reached the wheel cache"
            time.sleep(0.2)
        pruned = run("cache", "prune", "--max-size", "0", "--only", "wheels", "--json",
                     cwd=tmp_path)
        assert pruned.returncode == 0, pruned.stderr
        document = json.loads(pruned.stdout)
        assert [e["key"] for e in document["kept_in_use"]] == [key]
        assert document["removed"] == []
        assert "kept 1 wheel cache entry that a running build uses" in pruned.stderr
        cleaned = run("cache", "clean", "--only", "wheels", cwd=tmp_path)
        assert cleaned.returncode == 0, cleaned.stderr
        assert (cache / key / RECORD).is_file()
        go.touch()
        _, err = building.communicate(timeout=600)
    finally:
        if building.poll() is None:
            building.send_signal(signal.SIGINT)
            building.communicate(timeout=120)
    assert building.returncode == 0, err
    assert "taken from the wheel cache" in err
    assert "no longer matches" not in err
    assert "wferryfx-cext: building its wheel" not in err

    # The build is over: nothing holds the entry, and pruning removes it (and the one the
    # second build added).
    info = json.loads(run("cache", "info", "--only", "wheels", "--json", cwd=tmp_path).stdout)
    (wheels,) = info["caches"]
    assert wheels["entries"] == 2
    assert wheels["path"] == str(cache)
    done = wheelferry("cache", "prune", "--max-size", "0", "--only", "wheels")
    assert done.returncode == 0, done.stderr
    assert "removed 2 entries" in done.stderr
    assert [p for p in cache.iterdir() if (p / RECORD).is_file()] == []
