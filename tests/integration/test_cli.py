"""The two front doors, `wheelferry TASK` and `inv TASK`, offer the same tasks with helpful flags
and turn configuration problems into a clean message and exit code 2."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support import WHEELFERRY

INV = Path(sys.executable).parent / "inv"
REPO_ROOT = Path(__file__).parents[2]
# The tasks that work on a project (init starts one; cache is the user's).
PROJECT_TASKS = ("lock", "build", "verify", "init-script", "bundle", "status", "review")
TASKS = (*PROJECT_TASKS, "init", "cache", "fingerprint")
# invoke's core options, which mean nothing for wheelferry.
INVOKE_OPTIONS = ("--pty", "--dry", "--write-pyc", "--prompt-for-sudo-password", "--echo",
                  "--hide", "--warn-only", "--command-timeout", "--config", "--debug",
                  "--list-format", "--list-depth", "--core-opts", "--collection", "--search-root")


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(arg) for arg in args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def listed_tasks(output: str) -> set[str]:
    """Task names from invoke's --list output (first words indented by two; wrapped
    descriptions are indented further)."""
    return {line.split()[0] for line in output.splitlines()
            if line.startswith("  ") and not line.startswith("   ")}


@pytest.mark.parametrize("program", [WHEELFERRY, INV], ids=["wheelferry", "inv"])
def test_list_shows_every_task(program: str | Path) -> None:
    result = run(program, "--list", cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert set(TASKS) <= listed_tasks(result.stdout), result.stdout
    # Each task has a one-line description.
    for line in result.stdout.splitlines():
        words = line.split()
        if words and words[0] in TASKS:
            assert len(words) > 1, f"{words[0]} has no description in --list"


def test_console_script_lists_only_wheelferry_tasks() -> None:
    result = run(WHEELFERRY, "--list", cwd=REPO_ROOT)
    assert listed_tasks(result.stdout) == set(TASKS)


def test_build_help_describes_its_flags() -> None:
    result = run(WHEELFERRY, "build", "--help", cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # help wraps descriptions across lines
    assert "Usage: wheelferry" in text
    assert "build" in text
    for flag, words in {
        "--upgrade": "Re-resolve every lock",
        "--upgrade-package": "Re-resolve this package",
        "--jobs": "Parallel sdist builds",
        "--project": "pyproject.toml",
        "--python": "major.minor",
        "--image": "container image",
        "--wheelhouse": "Output folder",
        "--engine": "docker or podman",
        "--index-url": "index URL",
        "--verbose": "Show every line",
    }.items():
        assert flag in text, f"{flag} missing from build --help"
        assert words in text, f"{flag}'s description ({words!r}) missing from build --help"


def test_inv_and_wheelferry_give_the_same_help() -> None:
    ours = run(WHEELFERRY, "lock", "--help", cwd=REPO_ROOT)
    theirs = run(INV, "lock", "--help", cwd=REPO_ROOT)
    assert ours.returncode == theirs.returncode == 0
    # Past the usage line (which names the program), the help is the same.
    assert "Docstring:" in ours.stdout
    assert ours.stdout.split("Docstring:", 1)[1] == theirs.stdout.split("Docstring:", 1)[1]


def test_help_shows_no_invoke_option_and_p_is_the_project_everywhere() -> None:
    shown = run(WHEELFERRY, "--help", cwd=REPO_ROOT)
    assert shown.returncode == 0, shown.stderr
    assert "Usage: wheelferry COMMAND" in shown.stdout
    assert set(TASKS) <= listed_tasks(shown.stdout)
    for task in TASKS:
        helped = run(WHEELFERRY, task, "--help", cwd=REPO_ROOT)
        assert helped.returncode == 0, helped.stderr
        assert f"Usage: wheelferry {task} [--options]" in helped.stdout
        if task != "cache":
            assert "-p STRING, --project=STRING" in helped.stdout, task
        for text in (shown.stdout, helped.stdout):
            assert [o for o in INVOKE_OPTIONS if o in text] == []
            assert "-p, --pty" not in text
    # What is kept still works.
    assert run(WHEELFERRY, "--version", cwd=REPO_ROOT).stdout.startswith("wheelferry ")
    # A dropped core option is no longer taken: it is an unknown flag.
    refused = run(WHEELFERRY, "--dry", "status", cwd=REPO_ROOT)
    assert refused.returncode == 1, refused.stderr
    assert "No idea what '--dry' is!" in refused.stdout + refused.stderr


@pytest.mark.parametrize("task", PROJECT_TASKS)
def test_task_without_pyproject_is_a_clean_config_error(tmp_path: Path, task: str) -> None:
    result = run(WHEELFERRY, task, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    message = result.stderr.strip()
    assert message == (
        f"configuration error: no pyproject.toml in {tmp_path.resolve()}. Run wheelferry in a "
        "project folder whose pyproject.toml has a [tool.wheelferry] table, or pass "
        "--project DIR. To start one here: wheelferry init REQUIREMENT... (or --from "
        "requirements.txt)."
    )
    assert not (tmp_path / ".wheelferry").exists(), "nothing written for a failed start"
    assert not (tmp_path / "init.sh").exists()


def test_the_advice_to_start_a_project_works(tmp_path: Path) -> None:
    assert run(WHEELFERRY, "status", cwd=tmp_path).returncode == 2
    assert run(WHEELFERRY, "init", "wferryfx-pure", cwd=tmp_path).returncode == 0
    result = run(WHEELFERRY, "status", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "requirements/base.txt: stale: no lock yet" in result.stdout


def test_project_flag_pointing_nowhere(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = run(WHEELFERRY, "lock", "--project", missing, cwd=tmp_path)
    assert result.returncode == 2
    assert f"no pyproject.toml in {missing}" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_flag_value_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "requirements.in").write_text("wferryfx-pure\n")
    (tmp_path / "pyproject.toml").write_text('[tool.wheelferry]\npython = "3.10"\n')
    result = run(WHEELFERRY, "lock", "--python", "3", "--project", tmp_path, cwd=tmp_path)
    assert result.returncode == 2
    assert "'python'" in result.stderr
    assert "'3'" in result.stderr
    assert "Traceback" not in result.stderr


def test_flag_value_of_the_wrong_type_is_a_clean_error(tmp_path: Path) -> None:
    result = run(WHEELFERRY, "build", "--jobs", "many", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "'many'" in result.stderr
    assert "wheelferry TASK --help" in result.stderr


def test_negative_jobs_is_a_clean_config_error(tmp_path: Path) -> None:
    result = run(WHEELFERRY, "build", "--jobs", "-1", cwd=tmp_path)
    assert result.returncode == 2
    assert "--jobs must be 0" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_init_takes_requirements_as_words_and_the_project_is_ready_to_build(
        tmp_path: Path) -> None:
    project = tmp_path / "new"
    started = run(WHEELFERRY, "init", "wferryfx-pure", "attrs>=20", "--python", "3.11", "-p",
                  project, cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    assert (project / "requirements" / "base.in").read_text() == "wferryfx-pure\nattrs>=20\n"
    assert "next: wheelferry build" in started.stderr
    # Again: refused, naming the table, nothing changed.
    before = (project / "pyproject.toml").read_bytes()
    again = run(WHEELFERRY, "init", "six", "-p", project, cwd=tmp_path)
    assert again.returncode == 2
    assert f"{project / 'pyproject.toml'} has a [tool.wheelferry] table already" in again.stderr
    assert (project / "pyproject.toml").read_bytes() == before


def test_status_json_carries_the_facts_of_its_text(tmp_path: Path) -> None:
    assert run(WHEELFERRY, "init", "six", "--python", "3.11", cwd=tmp_path).returncode == 0
    text = run(WHEELFERRY, "status", cwd=tmp_path)
    shown = run(WHEELFERRY, "status", "--json", cwd=tmp_path)
    assert text.returncode == shown.returncode == 0
    document = json.loads(shown.stdout)
    assert document["schema"] == 1
    assert document["ok"] is True
    facts = {line.split(": ", 1)[0].strip(): line.split(": ", 1)[1]
             for line in text.stdout.splitlines()[1:]}
    target = document["target"]
    assert facts["target"] == f"python {target['python']} in {target['image']} on {target['arch']}"
    (lock,) = document["locks"]
    assert facts[lock["path"]] == f"stale: {lock['reason']}"
    assert lock["fresh"] is False
    house = document["wheelhouse"]
    assert house["built"] is False
    assert facts[house["path"]].startswith("not built")
    assert document["ready"] is False
    assert document["drift"] == ""
    assert [f"{line['subject']}: {line['state']}" for line in document["lines"]] == [
        line.strip() for line in text.stdout.splitlines()[1:]]


def test_errors_in_json_mode_are_json_with_the_exit_code(tmp_path: Path) -> None:
    result = run(WHEELFERRY, "status", "--json", cwd=tmp_path)
    assert result.returncode == 2
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["command"] == "status"
    assert document["error"]["exit_code"] == 2
    assert document["error"]["kind"] == "configuration error"
    assert f"no pyproject.toml in {tmp_path.resolve()}" in document["error"]["message"]
    assert "configuration error: no pyproject.toml" in result.stderr


def test_quiet_says_the_final_line_only(tmp_path: Path) -> None:
    result = run(WHEELFERRY, "init", "-q", "six", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "wheelferry: next: wheelferry build\n"
    assert result.stdout == ""


def on_a_terminal(*args: str, cwd: Path, env: dict[str, str]) -> bytes:
    """What a command writes to a terminal (a pseudo-terminal as its output)."""
    leader, follower = pty.openpty()
    with subprocess.Popen(list(args), cwd=cwd, stdout=follower, stderr=follower,
                          stdin=subprocess.DEVNULL, env=env) as started:
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            output += chunk
        started.wait(timeout=60)
    os.close(leader)
    return output


def test_colours_follow_no_color_and_a_pipe_gets_plain_text(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")} | {"TERM": "xterm-256color"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    coloured = on_a_terminal(WHEELFERRY, "init", "six", cwd=tmp_path / "a", env=env)
    assert b"\x1b[1;36mwheelferry" in coloured  # bold cyan, on a terminal
    plain = on_a_terminal(WHEELFERRY, "init", "six", cwd=tmp_path / "b",
                          env=env | {"NO_COLOR": "1"})
    assert b"wheelferry" in plain
    assert re.search(rb"\x1b\[[0-9;]*3[0-9]m", plain) is None  # no colour
    piped = run(WHEELFERRY, "init", "six", "-p", tmp_path / "c", cwd=tmp_path)
    assert "\x1b" not in piped.stderr
    assert "[bold" not in piped.stderr
    assert piped.stderr.startswith("wheelferry: [")
