"""incontainer/lock_steps.py: uv run as pip-compile would be, for this interpreter and with
pip's settings. No engine."""

from __future__ import annotations

from types import ModuleType

from tests.support import incontainer_script


def script() -> ModuleType:
    return incontainer_script("lock_steps")


def test_uv_locks_for_this_interpreter_as_pip_would_choose_across_indexes() -> None:
    module = script()
    cmd = module.uv_command({"in": "requirements/app.in", "out": "requirements/app.txt"},
                            ["--constraint", ".wheelferry-provided.txt"], ["--upgrade"])
    assert cmd[1:3] == ["pip", "compile"]
    assert "--generate-hashes" in cmd
    assert cmd[cmd.index("--python") + 1] == module.sys.executable  # the target's markers
    assert cmd[cmd.index("--index-strategy") + 1] == "unsafe-best-match"
    assert cmd[cmd.index("--output-file") + 1] == "requirements/app.txt"
    assert cmd[-3:] == [".wheelferry-provided.txt", "requirements/app.in", "--upgrade"]
    # The build lock is never constrained by what the platform provides.
    build = module.uv_command({"in": "b.in", "out": "b.txt", "build": True},
                              ["--constraint", "p.txt"], [])
    assert "--constraint" not in build


def test_uv_reads_pips_index_certificate_and_cache_settings_and_no_config_of_its_own() -> None:
    env = module_env = script().uv_environment({
        "PIP_INDEX_URL": "https://user:pw@mirror.example/simple/",
        "PIP_EXTRA_INDEX_URL": "https://a/simple/ https://b/simple/",
        "PIP_CACHE_DIR": "/cache", "PIP_CERT": "/ca.pem", "HOME": "/tmp"})
    assert env["UV_INDEX_URL"] == "https://user:pw@mirror.example/simple/"
    assert env["UV_EXTRA_INDEX_URL"] == "https://a/simple/ https://b/simple/"
    assert env["UV_CACHE_DIR"] == "/cache/uv"
    assert env["SSL_CERT_FILE"] == "/ca.pem"
    assert module_env["UV_NO_CONFIG"] == "1"
    assert env["UV_CUSTOM_COMPILE_COMMAND"] == "wheelferry lock"
    assert "UV_INDEX_URL" not in script().uv_environment({"HOME": "/tmp"})
