"""incontainer/compile_locks.py: recognising an sdist whose setup.py imports what it does not
declare, from pip-compile's real output."""

from __future__ import annotations

from types import ModuleType

from tests.support import incontainer_script

PIP_COMPILE_OUTPUT = """\
        Getting requirements to build wheel did not run successfully.
        exit code: 1
        [17 lines of output]
            Traceback (most recent call last):
              File "<string>", line 4, in <module>
            ModuleNotFoundError: No module named 'numpy'
            [end of output]
    pip._internal.exceptions.FailedToPrepareCandidate: Failed to build 'pyradiomics' when \
getting requirements to build wheel
"""


def script() -> ModuleType:
    return incontainer_script("compile_locks")


def test_an_undeclared_build_import_names_the_sdist_module_and_distribution() -> None:
    found = script().undeclared_build_import(PIP_COMPILE_OUTPUT)
    assert found == ("pyradiomics", "numpy", "numpy")


def test_modules_published_under_another_name_map_to_their_distribution() -> None:
    output = PIP_COMPILE_OUTPUT.replace("'numpy'", "'sklearn.utils'")
    assert script().undeclared_build_import(output) == ("pyradiomics", "sklearn", "scikit-learn")
    output = PIP_COMPILE_OUTPUT.replace("'numpy'", "'wferryfx_buildhelper'")
    assert script().undeclared_build_import(output)[2] == "wferryfx-buildhelper"


def test_other_failures_are_not_taken_for_one() -> None:
    assert script().undeclared_build_import("ERROR: ResolutionImpossible") is None
    # A missing module with no sdist named: not a build-step failure of one package.
    assert script().undeclared_build_import(
        "ModuleNotFoundError: No module named 'numpy'") is None


OLD_SDIST_OUTPUT = """\
        AttributeError: module 'wferryfx_buildtool' has no attribute 'generate_version_module'
        [end of output]
pip._internal.exceptions.FailedToPrepareCandidate: Failed to build 'wferryfx-oldmeta' when \
getting requirements to build wheel
"""


def test_an_sdist_that_failed_for_another_reason_is_named_for_the_dated_retry() -> None:
    module = script()
    assert module.undeclared_build_import(OLD_SDIST_OUTPUT) is None
    assert module.failed_sdist(OLD_SDIST_OUTPUT) == "wferryfx-oldmeta"
    assert module.failed_sdist("ERROR: ResolutionImpossible") is None


def test_the_version_to_date_is_the_one_the_input_or_the_previous_lock_pins() -> None:
    module = script()
    in_file = "# papers pin\nWferryfx_OldMeta[extra] == 0.9  # old\nother==2\n"
    lock = "wferryfx-oldmeta==1.0 \\\n    --hash=sha256:aa\n"
    assert module.requested_version("wferryfx-oldmeta", in_file, lock) == "0.9"
    assert module.requested_version("wferryfx-oldmeta", "wferryfx-oldmeta>=0.5\n", lock) == "1.0"
    assert module.requested_version("wferryfx-oldmeta", "wferryfx-oldmetaplus==3\n") is None


def listing(*filenames: str, yanked: str = "") -> list[dict[str, object]]:
    return [{"filename": name, "url": f"https://i/{name}", "yanked": name == yanked}
            for name in filenames]


def test_the_sdist_to_date_is_the_pinned_one_else_the_newest() -> None:
    module = script()
    files = listing("old-0.9.tar.gz", "old-1.0.tar.gz", "old-1.0-py3-none-any.whl",
                    "old-1.1.zip", "old-1.2.tar.gz", yanked="old-1.2.tar.gz")
    assert module.sdist_of("old", "1.0", files)["filename"] == "old-1.0.tar.gz"
    assert module.sdist_of("old", None, files)["filename"] == "old-1.1.zip"  # 1.2 is yanked
    assert module.sdist_of("old", "2.0", files) is None


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
