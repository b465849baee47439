"""benchmarks/corpus/run.py, its pure parts: the sets found, the blank project written, a
failure's step and cause read from wheelferry's output, the table. (Running the corpus needs the
public index and an engine: it is not part of the suite.)"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import asdict
from pathlib import Path
from types import ModuleType

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "corpus"


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wheelferry_corpus_run", CORPUS / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


run = load_runner()
tomllib = run.tomllib


def make_set(root: Path, name: str, *, source: str = "a public URL", call: bool = True,
             fragment: str | None = None, expected: str | None = None) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "requirements.in").write_text("numpy\n")
    if source:
        (folder / "SOURCE").write_text(source + "\n")
    if call:
        (folder / "call.py").write_text("print('ok numpy: 3.0')\n")
    if fragment is not None:
        (folder / "wheelferry.toml").write_text(fragment)
    if expected is not None:
        (folder / "EXPECTED").write_text(expected + "\n")
    return folder


def test_the_shipped_corpus_has_fifteen_sets_each_with_its_source_and_calls() -> None:
    sets = run.discover(CORPUS)
    assert len(sets) >= 15
    for corpus_set in sets:
        assert corpus_set.source, corpus_set.name
        requirements = (corpus_set.folder / "requirements.in").read_text()
        assert [line for line in requirements.splitlines()
                if line.strip() and not line.startswith("#")], corpus_set.name
        call = (corpus_set.folder / "call.py").read_text()
        compile(call, str(corpus_set.folder / "call.py"), "exec")
        assert "check(" in call, corpus_set.name
        run.pyproject_text(corpus_set, platform_image=None)  # its settings, if any, are valid


def test_sets_are_the_folders_with_a_requirements_file_by_name(tmp_path: Path) -> None:
    make_set(tmp_path, "zeta")
    make_set(tmp_path, "alpha", fragment="skip-imports = ['x']\n", expected="system library")
    (tmp_path / "notes").mkdir()
    sets = run.discover(tmp_path)
    assert [s.name for s in sets] == ["alpha", "zeta"]
    assert [s.configured for s in sets] == [True, False]
    assert sets[0].expected == "system library"
    assert sets[1].expected == ""


@pytest.mark.parametrize("missing", ["SOURCE", "call.py"])
def test_a_set_without_its_source_or_calls_is_named(tmp_path: Path, missing: str) -> None:
    make_set(tmp_path, "bare", source="" if missing == "SOURCE" else "x",
             call=missing != "call.py")
    with pytest.raises(run.CorpusError, match=f"bare: {missing} missing"):
        run.discover(tmp_path)


def test_sets_are_chosen_by_name_and_an_unknown_name_lists_the_sets(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        make_set(tmp_path, name)
    sets = run.discover(tmp_path)
    assert [s.name for s in run.select(sets, [])] == ["a", "b", "c"]
    assert [s.name for s in run.select(sets, ["c", "a"])] == ["c", "a"]
    with pytest.raises(run.CorpusError, match="no corpus set named x; the sets are: a, b, c"):
        run.select(sets, ["x"])


def test_the_blank_project_holds_only_the_requirements_and_the_platform_image(
        tmp_path: Path) -> None:
    make_set(tmp_path, "plain")
    corpus_set = run.discover(tmp_path)[0]
    table = tomllib.loads(run.pyproject_text(corpus_set, platform_image=None))
    assert table == {"tool": {"wheelferry": {"requirements": ["requirements.in"]}}}
    table = tomllib.loads(run.pyproject_text(corpus_set, platform_image="ws:1"))
    assert table["tool"]["wheelferry"] == {"requirements": ["requirements.in"],
                                           "platform-image": "ws:1"}


def test_a_sets_own_settings_are_added_and_checked(tmp_path: Path) -> None:
    make_set(tmp_path, "configured", fragment=(
        'resolver = "pip-compile"\n'
        "[tool.wheelferry.overrides.psycopg2]\n"
        'system-packages = ["libpq-dev"]\n'))
    make_set(tmp_path, "broken", fragment="[tool.wheelferry\n")
    make_set(tmp_path, "sneaky", fragment='requirements = ["other.in"]\n')
    configured, broken, sneaky = (
        {s.name: s for s in run.discover(tmp_path)}[n] for n in ("configured", "broken", "sneaky"))
    table = tomllib.loads(run.pyproject_text(configured, platform_image=None))["tool"]["wheelferry"]
    assert table["resolver"] == "pip-compile"
    assert table["overrides"] == {"psycopg2": {"system-packages": ["libpq-dev"]}}
    for refused in (broken, sneaky):
        with pytest.raises(run.CorpusError, match=rf"{refused.name}: its wheelferry\.toml does "
                           r"not make a valid \[tool\.wheelferry\] table"):
            run.pyproject_text(refused, platform_image=None)


@pytest.mark.parametrize(("command", "code", "step"), [
    ("build", 4, "lock"), ("build", 5, "build"), ("build", 3, "build"),
    ("verify", 6, "verify"), ("init-script", 8, "start")])
def test_a_failed_command_is_placed_at_its_step(command: str, code: int, step: str) -> None:
    assert run.failed_step(command, code) == step


def test_the_cause_is_wheelferrys_own_error_paragraph() -> None:
    stderr = (
        "wheelferry: [0.1 s] locking requirements.in ...\n"
        "  [2.0 s] Resolved 3 packages\n"
        "build failed: pyyaml 5.4.1 could not be built: AttributeError: cython_sources. "
        "Pin a newer release.\n"
        "    Traceback (most recent call last):\n"
        "\n"
        "    AttributeError: cython_sources\n"
        "[tool.wheelferry.overrides.pyyaml]\n"
        'build-requires = ["cython<3"]\n\n')
    assert run.error_paragraph(stderr) == (
        "build failed: pyyaml 5.4.1 could not be built: AttributeError: cython_sources. "
        "Pin a newer release.\n"
        "    Traceback (most recent call last):\n"
        "\n"
        "    AttributeError: cython_sources\n"
        "[tool.wheelferry.overrides.pyyaml]\n"
        'build-requires = ["cython<3"]')
    assert run.error_paragraph("one\n\ntwo\nthree\n") == "one\ntwo\nthree"


def test_a_failed_desktop_start_names_each_failing_call_with_its_exception() -> None:
    output = (
        "### Executing the user custom init script ###\n"
        "ok numpy: 3.0\n"
        "FAILED pyradiomics:\n"
        "Traceback (most recent call last):\n"
        '  File "/corpus/call.py", line 12, in check\n'
        "AttributeError: module 'numpy' has no attribute 'float'\n"
        "ok six: range(0, 3)\n"
        "FAILED hdbscan:\n"
        "Traceback (most recent call last):\n"
        "ValueError: numpy.dtype size changed, may indicate binary incompatibility.\n"
        "failed: pyradiomics, hdbscan\n")
    assert run.start_failures(output) == (
        "FAILED pyradiomics: AttributeError: module 'numpy' has no attribute 'float'\n"
        "FAILED hdbscan: ValueError: numpy.dtype size changed, may indicate binary "
        "incompatibility.")
    assert run.start_failures("a\nb\n") == "a\nb"


def test_the_markdown_table_has_the_date_each_outcome_and_the_expected_failures() -> None:
    results = [
        run.Result(name="ok-set", outcome="ok", seconds=61.4, cause="", configured=False),
        run.Result(name="pg", outcome="failed at build", seconds=12.0,
                   cause="build failed: psycopg2 | pg_config not found\n    log line\n    more",
                   configured=True, expected="system library (issue 18)"),
    ]
    text = run.render_markdown(results, when="2026-12-05 18:40 UTC")
    assert text.startswith("Corpus run of 2026-12-05 18:40 UTC, desktop start in `python:3.10`: "
                           "1 of 2 sets ok.\n")
    assert "| ok-set | ok | 61 s |  | no |" in text
    stored = [run.Result(name=n, outcome="ok", seconds=1.0, cause="", configured=False,
                         finished=f"2026-12-05 18:{m} UTC") for n, m in (("a", "10"), ("b", "40"))]
    assert run.render_markdown(stored, when="later").startswith(
        "Corpus runs of 2026-12-05 18:10 UTC to 2026-12-05 18:40 UTC, desktop start in "
        "`python:3.10`: 2 of 2 sets ok.\n")
    assert ("| pg | failed at build | 12 s | build failed: psycopg2 \\| pg_config not found / "
            "log line / more (expected: system library (issue 18)) | yes |") in text


def test_results_are_stored_per_set_and_tabled_again_without_running(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    make_set(tmp_path / "corpus", "a")
    make_set(tmp_path / "corpus", "b")
    sets = run.discover(tmp_path / "corpus")
    result = run.Result(name="a", outcome="failed at lock", seconds=3.0, cause="lock failed: x",
                        configured=False, steps={"build": 3.0}, finished="2026-12-05 18:00 UTC")
    (tmp_path / "logs" / "a").mkdir(parents=True)
    (tmp_path / "logs" / "a" / "result.json").write_text(json.dumps(asdict(result)))
    assert run.stored_results(tmp_path / "logs", sets) == [result]
