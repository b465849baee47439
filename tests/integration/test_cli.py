"""The two front doors, `wheelferry TASK` and `inv TASK`, offer the same tasks with helpful flags
and turn configuration problems into a clean message and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.support import WHEELFERRY

INV = Path(sys.executable).parent / "inv"
REPO_ROOT = Path(__file__).parents[2]
TASKS = ("lock", "build", "verify", "init-script", "bundle", "status")


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


@pytest.mark.parametrize("task", TASKS)
def test_task_without_pyproject_is_a_clean_config_error(tmp_path: Path, task: str) -> None:
    result = run(WHEELFERRY, task, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    message = result.stderr.strip()
    assert message == (
        f"configuration error: no pyproject.toml in {tmp_path.resolve()}. Run wheelferry in a "
        "project folder whose pyproject.toml has a [tool.wheelferry] table, or pass "
        "--project DIR."
    )
    assert not (tmp_path / ".wheelferry").exists(), "nothing written for a failed start"
    assert not (tmp_path / "init.sh").exists()


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
