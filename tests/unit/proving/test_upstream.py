"""The upstream check's side on the host: one job entry per distribution, a container of the
target image that reaches only the configured index and sees only its job (no project), and a
check that could not run saying why instead of failing verify on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support import project_options

from wheelferry.core.errors import ImageError
from wheelferry.core.report import Reporter
from wheelferry.engine import specs as containers
from wheelferry.engine.client import ContainerSpec, ImageInfo, RunResult
from wheelferry.project.options import Options
from wheelferry.proving import upstream
from wheelferry.proving.verdicts import UPSTREAM, ImportFailure, Verdict


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Options:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return project_options(tmp_path, {"base.in": "wferryfx-upstream\n"},
                           **{"index-url": "http://127.0.0.1:8080/simple/", "network": "host"})


def pending(dist: str, module: str) -> Verdict:
    return Verdict(ImportFailure(dist, module, False, "ImportError", "x"), "other", UPSTREAM,
                   "", "")


def test_the_job_lists_each_distribution_once_with_its_version() -> None:
    job = upstream.job([pending("b", "b._x"), pending("a", "a._y"), pending("b", "b._z"),
                        pending("b", "b._x")], {"a": "1.0", "b": "2.0"})
    assert job == {"upstream": [
        {"distribution": "a", "version": "1.0", "modules": ["a._y"]},
        {"distribution": "b", "version": "2.0", "modules": ["b._x", "b._z"]}]}


def test_the_container_reaches_the_configured_index_and_sees_only_its_job(
        options: Options) -> None:
    job_dir = options.project_dir / ".wheelferry" / "upstream-0123456789ab"
    spec = containers.upstream_check_spec(options.target, options.index, image_id="sha256:1",
                                          job_dir=job_dir)
    assert spec.purpose == "upstream-check"
    assert spec.image == "sha256:1"
    assert spec.command[-1] == "/wheelferry/scripts/upstream_check.py"
    assert spec.network == "host"
    environment = dict(spec.environment)
    assert environment["PIP_INDEX_URL"] == "http://127.0.0.1:8080/simple/"
    assert environment["PIP_CONFIG_FILE"] == "/dev/null"
    sources = [mount.source for mount in spec.mounts]
    assert options.project_dir not in sources
    assert {m.target for m in spec.mounts if not m.read_only} == {containers.CACHE_MOUNT}
    assert (job_dir, containers.JOB_MOUNT) in [(m.source, m.target) for m in spec.mounts]
    assert spec.user is None  # the invoking user: pip's cache stays theirs
    assert spec.hardened


class FakeEngine:
    """Enough of an Engine for the check: an image, and one run with a given output."""

    def __init__(self, lines: tuple[str, ...] = (), *, image_error: bool = False) -> None:
        self.lines, self.image_error = lines, image_error
        self.specs: list[ContainerSpec] = []
        self.jobs: list[str] = []

    def ensure_image(self, reference: str, *, platform: str | None = None) -> ImageInfo:
        if self.image_error:
            raise ImageError(f"image {reference!r} is not on this machine")
        return ImageInfo(reference=reference, id="sha256:1", digest="d")

    def run(self, spec: ContainerSpec, **_: Any) -> RunResult:
        self.specs.append(spec)
        job = next(m.source for m in spec.mounts if m.target == containers.JOB_MOUNT)
        self.jobs.append((job / "job.json").read_text())
        return RunResult(exit_code=0, tail=self.lines)


def test_the_answer_is_read_per_distribution_and_the_job_folder_removed(
        options: Options) -> None:
    engine = FakeEngine(('$ pip install up==1.0', 'WHEELFERRY-UPSTREAM {"up": {"installed": '
                         'true, "imports": {"up._x": null}}, "down": {"installed": false, '
                         '"output": "no"}}'))
    results, reason = upstream.check(engine, options, [pending("up", "up._x")],  # type: ignore[arg-type]
                                     {"up": "1.0"}, Reporter())
    assert reason == ""
    assert results["up"].installed
    assert dict(results["up"].imports) == {"up._x": None}
    assert (results["down"].installed, results["down"].output) == (False, "no")
    assert '"version": "1.0"' in engine.jobs[0]
    assert not list((options.project_dir / ".wheelferry").glob("upstream-*"))


def test_a_check_that_cannot_run_or_finish_says_why(options: Options) -> None:
    missing = FakeEngine(image_error=True)
    results, reason = upstream.check(missing, options, [pending("up", "up._x")], {},  # type: ignore[arg-type]
                                     Reporter())
    assert results == {}
    assert reason.startswith("the upstream check could not run (image 'python:3.10'")
    cut = FakeEngine(("pip is still working",))
    results, reason = upstream.check(cut, options, [pending("up", "up._x")], {},  # type: ignore[arg-type]
                                     Reporter())
    assert (results, reason) == ({}, "the upstream check did not finish (exit code 0)")
