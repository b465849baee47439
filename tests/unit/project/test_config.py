"""[tool.wheelferry] -> Options: every key, defaults, flags over the file, and clean ConfigErrors
that name the file and the key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from tests.support import wheelferry

from wheelferry.core.errors import ConfigError
from wheelferry.project.config import load_options
from wheelferry.project.options import (
    DEFAULT_INSTALL_DIR,
    BuildOptions,
    IndexOptions,
    Options,
    PlatformOptions,
    ProofOptions,
    TargetOptions,
)
from wheelferry.project.overrides import BuildOverride


def make_project(root: Path, table: str, *, inputs: tuple[str, ...] = ("requirements.in",),
                 extra: str = "") -> Path:
    """A project folder whose pyproject.toml holds `table` under [tool.wheelferry]."""
    root.mkdir(parents=True, exist_ok=True)
    for name in inputs:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("wferryfx-pure\n")
    text = "[tool.wheelferry]\n" + textwrap.dedent(table).lstrip() + textwrap.dedent(extra)
    (root / "pyproject.toml").write_text(text)
    return root


def config_error(project: Path, flags: dict[str, object] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_options(project, flags)
    error = info.value
    assert error.exit_code == 2
    return error


def assert_names(error: ConfigError, *fragments: str) -> None:
    text = error.render()
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


# -- every key parsed ----------------------------------------------------------------------


def test_minimal_table_gets_documented_defaults(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 'python = "3.11"\n')
    options = load_options(project)
    root = project.resolve()
    assert options == Options(
        project_dir=root,
        pyproject=root / "pyproject.toml",
        requirements=(root / "requirements.in",),
        wheelhouse=root / "wheelhouse",
        engine="docker",
        target=TargetOptions(python="3.11", image="python:3.11", arch="x86_64"),
        index=IndexOptions(
            index_url=None,
            extra_index_urls=(),
            ca_bundle=options.index.ca_bundle,  # "auto": depends on the host, checked separately
            network="bridge",
        ),
        platform=PlatformOptions(install_dir=DEFAULT_INSTALL_DIR),
        build=BuildOptions(overrides=()),
        proof=ProofOptions(skip_imports=()),
    )
    assert options.build.resolver == "uv"  # pip-compile takes over what uv cannot lock
    assert options.platform.install_dir == "~/persistent-home/my-tools"
    assert options.target.python_tuple == (3, 11)


def test_empty_table_defaults_python_310(tmp_path: Path) -> None:
    options = load_options(make_project(tmp_path / "p", ""))
    assert options.target.python == "3.10"
    assert options.target.image == "python:3.10"


def test_every_key_is_parsed(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        """
        python = "3.12"
        image = "registry.example/py:3.12-slim"
        requirements = ["requirements/base.in", "requirements/extra.in"]
        wheelhouse = "out/wh"
        install-dir = "/data/tools"
        engine = "podman"
        index-url = "http://127.0.0.1:8080/simple"
        extra-index-urls = ["https://mirror.example/simple", "file:///srv/index"]
        ca-bundle = "certs/company.pem"
        network = "host"
        resolver = "pip-compile"
        skip-imports = ["tests", "pkg.sub"]
        """,
        inputs=("requirements/base.in", "requirements/extra.in"),
        extra="""
        [tool.wheelferry.overrides.PyRadiomics]
        build-requires = ["numpy>=1.24", "wheel"]
        no-build-isolation = true

        [tool.wheelferry.overrides.other_pkg]
        no-build-isolation = true
        """,
    )
    (project / "certs").mkdir()
    (project / "certs" / "company.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    options = load_options(project)
    root = project.resolve()
    assert options.target.python == "3.12"
    assert options.target.image == "registry.example/py:3.12-slim"
    assert options.requirements == (root / "requirements/base.in",
                                    root / "requirements/extra.in")
    assert options.wheelhouse == root / "out" / "wh"
    assert options.platform.install_dir == "/data/tools"
    assert options.engine == "podman"
    assert options.index.index_url == "http://127.0.0.1:8080/simple"
    assert options.index.extra_index_urls == ("https://mirror.example/simple", "file:///srv/index")
    assert options.index.ca_bundle == root / "certs" / "company.pem"
    assert options.index.network == "host"
    assert options.build.resolver == "pip-compile"
    assert options.proof.skip_imports == ("tests", "pkg.sub")
    # Names are canonicalised and sorted; unset sub-keys take their defaults.
    assert [o.name for o in options.build.overrides] == ["other-pkg", "pyradiomics"]
    radiomics = options.build.configured("pyRadiomics")
    assert isinstance(radiomics, BuildOverride)
    assert [str(r) for r in radiomics.build_requires] == ["numpy>=1.24", "wheel"]
    assert radiomics.no_build_isolation is True
    other = options.build.configured("Other.Pkg")
    assert other is not None
    assert other.build_requires == ()
    assert other.no_build_isolation is True
    assert options.build.configured("numpy") is None


@pytest.mark.parametrize("install_dir", ["~/tools", "$HOME/tools", "~", "/opt/wheels"])
def test_install_dir_forms_accepted(tmp_path: Path, install_dir: str) -> None:
    project = make_project(tmp_path / "p", f'install-dir = "{install_dir}"\n')
    assert load_options(project).platform.install_dir == install_dir


def test_ca_bundle_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pem = tmp_path / "host.pem"
    pem.write_text("pem")
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    project = make_project(tmp_path / "p", 'ca-bundle = "none"\n')
    assert load_options(project).index.ca_bundle is None


def test_ca_bundle_auto_picks_the_hosts_bundle(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    pem = tmp_path / "host.pem"
    pem.write_text("pem")
    for var in ("PIP_CERT", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    project = make_project(tmp_path / "p", 'ca-bundle = "auto"\n')
    assert load_options(project).index.ca_bundle == pem.resolve()
    # The default is "auto" too.
    assert load_options(make_project(tmp_path / "q", "")).index.ca_bundle == pem.resolve()
    # PIP_CERT (what the host's pip trusts) comes first.
    pip_pem = tmp_path / "pip.pem"
    pip_pem.write_text("pem")
    monkeypatch.setenv("PIP_CERT", str(pip_pem))
    assert load_options(project).index.ca_bundle == pip_pem.resolve()


def test_ca_bundle_auto_without_host_bundle_is_none(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("PIP_CERT", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    project = make_project(tmp_path / "p", 'ca-bundle = "auto"\n')
    assert load_options(project).index.ca_bundle is None


# -- flags win over the file ---------------------------------------------------------------


def test_flags_override_the_file(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "p",
        """
        python = "3.10"
        image = "python:3.10"
        wheelhouse = "wheelhouse"
        engine = "docker"
        index-url = "https://pypi.org/simple"
        """,
    )
    options = load_options(project, {"python": "3.11", "image": "custom:3.11",
                                     "wheelhouse": "dist-wh", "engine": "podman",
                                     "index-url": "http://127.0.0.1:9/simple"})
    assert options.target.python == "3.11"
    assert options.target.image == "custom:3.11"
    assert options.wheelhouse == project.resolve() / "dist-wh"
    assert options.engine == "podman"
    assert options.index.index_url == "http://127.0.0.1:9/simple"


def test_python_flag_moves_the_default_image(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 'python = "3.10"\n')
    assert load_options(project, {"python": "3.11"}).target.image == "python:3.11"


def test_unset_flags_keep_the_file(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 'python = "3.12"\nimage = "mine:1"\n')
    options = load_options(project, {"python": None, "image": None})
    assert (options.target.python, options.target.image) == ("3.12", "mine:1")


def test_bad_flag_value_is_a_config_error(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 'python = "3.10"\n')
    error = config_error(project, {"engine": "lxc"})
    assert_names(error, "'engine'", "lxc", "docker", "podman")


# -- bad input: ConfigError naming the file and the key --------------------------------------


def test_unknown_key(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 'pyhton = "3.10"\n')
    error = config_error(project)
    assert_names(error, "'pyhton'", str(project.resolve() / "pyproject.toml"),
                 "not a wheelferry setting", "python")


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("python = 3.10", "python"),
        ("image = 3", "image"),
        ('requirements = "requirements.in"', "requirements"),
        ("requirements = [1, 2]", "requirements"),
        ("wheelhouse = true", "wheelhouse"),
        ('install-dir = ["~/x"]', "install-dir"),
        ("engine = 1", "engine"),
        ('index-url = ["https://pypi.org/simple"]', "index-url"),
        ('extra-index-urls = "https://pypi.org/simple"', "extra-index-urls"),
        ("ca-bundle = false", "ca-bundle"),
        ("network = 0", "network"),
        ('skip-imports = "tests"', "skip-imports"),
        ('overrides = ["numpy"]', "overrides"),
    ],
)
def test_wrong_type(tmp_path: Path, line: str, key: str) -> None:
    project = make_project(tmp_path / "p", line + "\n")
    error = config_error(project)
    assert_names(error, f"'{key}'", str(project.resolve() / "pyproject.toml"), "must be")


@pytest.mark.parametrize(
    ("line", "key", "quoted"),
    [
        ('python = "3"', "python", "'3'"),
        ('python = "2.7"', "python", "'2.7'"),
        ('python = "3.10.4"', "python", "'3.10.4'"),
        ('python = "three"', "python", "'three'"),
        ('image = "python 3.10"', "image", "'python 3.10'"),
        ('image = ""', "image", "''"),
        ('engine = "lxc"', "engine", "'lxc'"),
        ('network = "none"', "network", "'none'"),
        ('resolver = "poetry"', "resolver", "'poetry'"),
        ('install-dir = "relative/tools"', "install-dir", "'relative/tools'"),
        ('index-url = "pypi.org/simple"', "index-url", "'pypi.org/simple'"),
        ('extra-index-urls = ["ftp://x/simple"]', "extra-index-urls", "'ftp://x/simple'"),
        ('ca-bundle = "missing.pem"', "ca-bundle", "'missing.pem'"),
        ('skip-imports = ["not-a-module"]', "skip-imports", "'not-a-module'"),
        ('wheelhouse = " "', "wheelhouse", "empty"),
        ("requirements = []", "requirements", "empty"),
        ('requirements = ["requirements.txt"]', "requirements", "requirements.txt"),
        ('requirements = ["requirements.in", "./requirements.in"]', "requirements", "twice"),
    ],
)
def test_bad_value(tmp_path: Path, line: str, key: str, quoted: str) -> None:
    project = make_project(tmp_path / "p", line + "\n")
    (project / "requirements.txt").write_text("x==1\n")
    error = config_error(project)
    assert_names(error, f"'{key}'", str(project.resolve() / "pyproject.toml"), quoted)


def test_missing_table(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.other]\na = 1\n')
    error = config_error(project)
    assert_names(error, str(project.resolve() / "pyproject.toml"), "[tool.wheelferry]")
    assert error.hint is not None
    assert "[tool.wheelferry]" in error.hint


def test_table_that_is_not_a_table(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool]\nwheelferry = "3.10"\n')
    error = config_error(project)
    assert_names(error, str(project.resolve() / "pyproject.toml"), "tool.wheelferry", "table")


def test_malformed_toml(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.wheelferry]\npython = "3.10\n')
    error = config_error(project)
    assert_names(error, str(project.resolve() / "pyproject.toml"), "not valid TOML", "line 2")
    assert isinstance(error.__cause__, ValueError)


def test_missing_pyproject(tmp_path: Path) -> None:
    error = config_error(tmp_path)
    assert_names(error, "no pyproject.toml", str(tmp_path.resolve()), "--project")


def test_missing_in_file(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 'requirements = ["requirements/base.in"]\n',
                           inputs=())
    error = config_error(project)
    assert_names(error, "'requirements'", str(project.resolve() / "pyproject.toml"),
                 "requirements/base.in", "does not exist")


@pytest.mark.parametrize("item", ["../outside.in", "/etc/outside.in", "sub/../../outside.in"])
def test_requirement_path_escaping_the_project(tmp_path: Path, item: str) -> None:
    project = make_project(tmp_path / "p", f'requirements = ["{item}"]\n', inputs=())
    (tmp_path / "outside.in").write_text("x\n")
    error = config_error(project)
    assert_names(error, "'requirements'", str(project.resolve() / "pyproject.toml"),
                 repr(item), "outside the project")


@pytest.mark.parametrize("value", [".", "./", "..", "sub/.."])
def test_wheelhouse_holding_the_project(tmp_path: Path, value: str) -> None:
    project = make_project(tmp_path / "p", f'wheelhouse = "{value}"\n')
    error = config_error(project)
    assert_names(error, "'wheelhouse'", str(project.resolve() / "pyproject.toml"),
                 "holds the project")


def test_wheelhouse_holding_the_requirement_files(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p",
                           'wheelhouse = "reqs"\nrequirements = ["reqs/base.in"]\n',
                           inputs=("reqs/base.in",))
    error = config_error(project)
    assert_names(error, "'wheelhouse'", str(project.resolve() / "pyproject.toml"),
                 "holds the requirement files")


@pytest.mark.parametrize(
    ("extra", "key", "fragment"),
    [
        ('[tool.wheelferry.overrides.numpy]\nbuild-require = ["x"]\n',
         "overrides.numpy.build-require", "not an override setting"),
        ('[tool.wheelferry.overrides.numpy]\nbuild-requires = "cython"\n',
         "overrides.numpy.build-requires", "must be a list"),
        ("[tool.wheelferry.overrides.numpy]\nbuild-requires = [1]\n",
         "overrides.numpy.build-requires", "must be a list"),
        ('[tool.wheelferry.overrides.numpy]\nno-build-isolation = "yes"\n',
         "overrides.numpy.no-build-isolation", "true or false"),
        ('[tool.wheelferry.overrides.numpy]\nbuild-requires = ["cython >>= 3"]\n',
         "overrides.numpy.build-requires", "'cython >>= 3'"),
        ('[tool.wheelferry.overrides]\nnumpy = "cython"\n',
         "overrides.numpy", "must be a table"),
        ('[tool.wheelferry.overrides."not a name!"]\nno-build-isolation = true\n',
         "overrides.not a name!", "not a package name"),
        ("[tool.wheelferry.overrides.Foo_Bar]\nno-build-isolation = true\n"
         "[tool.wheelferry.overrides.foo-bar]\nno-build-isolation = false\n",
         "overrides.foo-bar", "repeats"),
    ],
)
def test_bad_override_entries(tmp_path: Path, extra: str, key: str, fragment: str) -> None:
    project = make_project(tmp_path / "p", "", extra=extra)
    error = config_error(project)
    assert_names(error, f"'{key}", str(project.resolve() / "pyproject.toml"), fragment)


# -- through the CLI -------------------------------------------------------------------------


def test_cli_reports_unknown_key_cleanly(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 'python = "3.10"\nwheel-house = "wh"\n')
    result = wheelferry("lock", project=project, timeout=60)
    assert result.returncode == 2, result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    message = result.stderr.strip()
    assert "\n\n" not in message, "expected one paragraph"
    assert message.startswith("configuration error:")
    assert "'wheel-house'" in message
    assert str(project.resolve() / "pyproject.toml") in message


def test_build_requires_without_no_build_isolation_is_refused(tmp_path: Path) -> None:
    """pip's isolated builds cannot see extra build requirements: accepting them would build
    against whatever the sdist pulls in, not the locked version."""
    project = make_project(tmp_path / "p", "", extra="""
        [tool.wheelferry.overrides.pyradiomics]
        build-requires = ["numpy"]
        """)
    with pytest.raises(ConfigError) as caught:
        load_options(project)
    assert "overrides.pyradiomics.build-requires" in caught.value.message
    assert "no-build-isolation = true" in caught.value.message


# -- smoke-test ------------------------------------------------------------------------------


def test_smoke_test_is_code_or_a_py_file_of_the_project(tmp_path: Path) -> None:
    inline = make_project(tmp_path / "a", 'smoke-test = "import six; six.moves"\n')
    options = load_options(inline)
    assert (options.proof.smoke_test, options.proof.smoke_test_file) == ("import six; six.moves",
                                                                     None)
    from_file = make_project(tmp_path / "b", 'smoke-test = "checks/smoke.py"\n')
    (from_file / "checks").mkdir()
    (from_file / "checks" / "smoke.py").write_text("import six\nprint(six.PY3)\n")
    options = load_options(from_file)
    assert options.proof.smoke_test == "import six\nprint(six.PY3)\n"
    assert options.proof.smoke_test_file == (from_file / "checks" / "smoke.py").resolve()
    assert load_options(make_project(tmp_path / "c", "")).proof.smoke_test == ""


@pytest.mark.parametrize(("value", "fragments"), [
    ('"checks/missing.py"', ["'checks/missing.py', which is not a file", "Create it"]),
    ('"../outside.py"', ["outside the project folder"]),
    ('"  "', ["is empty"]),
    ("3", ["must be Python code, or the path of a .py file in the project, not 3"]),
])
def test_a_bad_smoke_test_names_the_key_and_the_file(tmp_path: Path, value: str,
                                                     fragments: list[str]) -> None:
    (tmp_path / "outside.py").write_text("pass\n")
    project = make_project(tmp_path / "p", f"smoke-test = {value}\n")
    assert_names(config_error(project), "'smoke-test'", "pyproject.toml", *fragments)
