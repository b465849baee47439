"""The upstream check's side on the host: one job entry per distribution, a container of the
target image that reaches only the configured index and sees only its job (no project), and a
check that could not run saying why instead of failing verify on its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support import project_options
from tests.support.fake_engine import Answer, FakeEngine

from wheelferry.core.report import Reporter
from wheelferry.engine import specs as containers
from wheelferry.engine.client import ContainerSpec, ImageInfo
from wheelferry.project.options import Options
from wheelferry.proving import upstream
from wheelferry.proving.proof_facts import ImportFailure, ImportOutcome
from wheelferry.proving.verdicts import UPSTREAM, Verdict


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


def upstream_engine(*lines: str, image: bool = True) -> tuple[FakeEngine, list[str]]:
    """The fake engine with (or without) the target image; its upstream-check containers say
    `lines`. Also the job each container was given, as it read it."""
    engine = FakeEngine({"python:3.10": ImageInfo(reference="python:3.10", id="sha256:1",
                                                  digest="d")} if image else {})
    jobs: list[str] = []

    def check(spec: ContainerSpec, out: Path) -> Answer:
        job = next(m.source for m in spec.mounts if m.target == containers.JOB_MOUNT)
        jobs.append((job / "job.json").read_text())
        return Answer(lines=lines)

    engine.always("upstream-check", check)
    return engine, jobs


def test_the_answer_is_read_per_distribution_and_the_job_folder_removed(
        options: Options) -> None:
    engine, jobs = upstream_engine('$ pip install up==1.0', 'WHEELFERRY-UPSTREAM {"up": '
                                   '{"installed": true, "imports": {"up._x": null}}, "down": '
                                   '{"installed": false, "output": "no"}}')
    results, reason = upstream.check(engine, options, [pending("up", "up._x")],
                                     {"up": "1.0"}, Reporter())
    assert reason == ""
    assert results["up"].installed
    assert dict(results["up"].imports) == {"up._x": None}
    assert (results["down"].installed, results["down"].output) == (False, "no")
    assert '"version": "1.0"' in jobs[0]
    assert not list((options.project_dir / ".wheelferry").glob("upstream-*"))


def test_a_check_that_cannot_run_or_finish_says_why(options: Options) -> None:
    missing, _ = upstream_engine(image=False)
    results, reason = upstream.check(missing, options, [pending("up", "up._x")], {},
                                     Reporter())
    assert results == {}
    assert reason.startswith("the upstream check could not run (image 'python:3.10'")
    cut, _ = upstream_engine("pip is still working")
    results, reason = upstream.check(cut, options, [pending("up", "up._x")], {},
                                     Reporter())
    assert (results, reason) == ({}, "the upstream check did not finish (exit code 0)")


def test_a_malformed_answer_is_no_answer_and_says_why(options: Options) -> None:
    engine, _ = upstream_engine('WHEELFERRY-UPSTREAM {"up": {"installed": true, "imports": '
                                '{"up._x": {"message": "no type"}}}}')
    results, reason = upstream.check(engine, options, [pending("up", "up._x")], {"up": "1.0"},
                                     Reporter())
    assert results == {}
    assert reason.startswith("the upstream check could not be read (the upstream check's "
                             "report has a malformed 'imports'")


def test_an_answer_is_remembered_and_read_back_without_a_container(options: Options) -> None:
    engine, jobs = upstream_engine('WHEELFERRY-UPSTREAM {"up": {"installed": true, "imports": '
                                   '{"up._x": {"type": "ImportError", "message": "no _x", '
                                   '"missing": null, "output": "..."}}, "output": "done"}}')
    first, _ = upstream.check(engine, options, [pending("up", "up._x")], {"up": "1.0"},
                              Reporter())
    again, reason = upstream.check(engine, options, [pending("up", "up._x")], {"up": "1.0"},
                                   Reporter())
    assert len(jobs) == 1
    assert reason == ""
    assert dict(again["up"].imports) == dict(first["up"].imports) == {
        "up._x": ImportOutcome("ImportError", "no _x")}
    assert again["up"].output == "done"


@pytest.mark.parametrize(("entry", "remembered"), [
    # as earlier versions wrote it: the whole error
    ({"outcome": {"type": "ImportError", "message": "no _x", "missing": None, "output": "x"},
      "output": "done"}, ImportOutcome("ImportError", "no _x")),
    ({"outcome": None, "output": ""}, None),
])
def test_a_remembered_entry_is_read_and_one_that_does_not_parse_is_checked_again(
        options: Options, entry: dict[str, object], remembered: ImportOutcome | None) -> None:
    record = upstream._cache_file(options, "sha256:1", "up", "1.0", "up._x")
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(entry))
    engine, jobs = upstream_engine('WHEELFERRY-UPSTREAM {"up": {"installed": true, "imports": '
                                   '{"up._x": {"type": "OSError", "message": "fresh"}}}}')
    results, _ = upstream.check(engine, options, [pending("up", "up._x")], {"up": "1.0"},
                                Reporter())
    assert (jobs, dict(results["up"].imports)) == ([], {"up._x": remembered})
    for damaged in ({"outcome": "ImportError"}, {"outcome": {"message": "no type"}}, {}):
        record.write_text(json.dumps(damaged))
        results, _ = upstream.check(engine, options, [pending("up", "up._x")], {"up": "1.0"},
                                    Reporter())
        assert dict(results["up"].imports) == {"up._x": ImportOutcome("OSError", "fresh")}
    assert len(jobs) == 3
