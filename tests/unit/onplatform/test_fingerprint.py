"""`wheelferry fingerprint`: the script it writes runs with a bare Python and describes it (the
tags it works out without packaging are ones packaging agrees with); `provided = "platform.json"`
reads it as the provided set with the platform's facts, and a fingerprint of another Python or
machine than the configuration's is a configuration error naming both."""

from __future__ import annotations

import json
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.tags import sys_tags
from packaging.version import Version
from tests.support import write_project

from wheelferry.commands import delivery
from wheelferry.core.errors import ConfigError
from wheelferry.core.report import Reporter
from wheelferry.onplatform import fingerprint as fingerprintscript
from wheelferry.project.config import load_options
from wheelferry.target import provided as provided_mod


def fingerprint_of_this_python(tmp_path: Path) -> dict[str, object]:
    script = delivery.fingerprint(output=tmp_path / "fingerprint.py", reporter=Reporter())
    done = subprocess.run([sys.executable, "-I", str(script)], capture_output=True, text=True,
                          check=True)
    data: dict[str, object] = json.loads(done.stdout)
    return data


def test_the_script_describes_the_python_it_runs_in(tmp_path: Path) -> None:
    data = fingerprint_of_this_python(tmp_path)
    assert (tmp_path / "fingerprint.py").read_text().startswith("#!/usr/bin/env python3\n")
    python = data["python"]
    assert isinstance(python, dict)
    assert python["version"] == platform.python_version()
    assert data["machine"] == platform.machine()
    assert data["tags"] == [str(tag) for tag in sys_tags()]
    distributions = data["distributions"]
    assert isinstance(distributions, dict)
    assert distributions["packaging"] == str(Version(__import__("packaging").__version__))
    writable = data["writable"]
    assert isinstance(writable, dict)
    assert set(writable) == {"purelib", "scripts", "user_site", "home", "persistent_home"}


def test_the_tags_without_packaging_are_ones_packaging_supports() -> None:
    libc = fingerprintscript.glibc()
    assert libc, "the test machine uses glibc"
    fallback = fingerprintscript.fallback_tags(libc)
    supported = {str(tag) for tag in sys_tags()}
    assert fallback[0] in supported
    assert set(fallback) <= supported, sorted(set(fallback) - supported)[:5]
    assert f"cp{sys.version_info[0]}{sys.version_info[1]}-none-any" in fallback


def project_with(tmp_path: Path, data: dict[str, object], **settings: str) -> Path:
    project = write_project(tmp_path / "p", {"base.in": "wferryfx-pure\n"},
                            **{"ca-bundle": "none", "provided": "platform.json", **settings})
    (project / "platform.json").write_text(json.dumps(data))
    return project


def platform_json(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "format": 1, "python": {"version": "3.10.12"}, "machine": "x86_64",
        "libc": {"name": "glibc", "version": "2.35"},
        "tags": ["cp310-cp310-manylinux_2_35_x86_64", "py3-none-any"],
        "distributions": {"numpy": "1.26.4", "Pandas": "2.1.4", "odd": "not a version"}}
    data.update(changes)
    return data


def test_a_fingerprint_is_the_provided_set_with_the_platform_s_facts(tmp_path: Path) -> None:
    options = load_options(project_with(tmp_path, platform_json()))
    found = provided_mod.from_file(options)
    assert found is not None
    assert found.source == "the fingerprint platform.json"
    assert [(name, str(version)) for name, version in found.packages] == [
        ("numpy", "1.26.4"), ("pandas", "2.1.4")]
    assert (found.python_version, found.machine, found.glibc) == ("3.10.12", "x86_64", "2.35")
    assert "py3-none-any" in found.tags
    assert found.libraries is None  # an older fingerprint: the platform's libraries unknown


def test_a_fingerprint_lists_the_platform_s_shared_libraries(tmp_path: Path) -> None:
    """What a wheel built for the platform need not carry: the sonames its loader finds."""
    listed = fingerprint_of_this_python(tmp_path)["libraries"]
    assert isinstance(listed, list)
    assert "libc.so.6" in listed
    options = load_options(project_with(tmp_path, platform_json(
        libraries=["libc.so.6", "libcrypt.so.1"])))
    found = provided_mod.from_file(options)
    assert found is not None
    assert found.libraries == ("libc.so.6", "libcrypt.so.1")


@pytest.mark.parametrize(("changes", "settings", "says"), [
    ({"python": {"version": "3.11.4"}}, {}, "runs python 3.11.4, but the configuration's "
                                            "python is 3.10"),
    ({"machine": "aarch64"}, {}, "machine is aarch64, but the configuration's arch is x86_64"),
])
def test_another_python_or_machine_is_a_configuration_error_naming_both(
        tmp_path: Path, changes: dict[str, object], settings: dict[str, str], says: str) -> None:
    options = load_options(project_with(tmp_path, platform_json(**changes), **settings))
    with pytest.raises(ConfigError, match=re.escape(says)) as raised:
        provided_mod.from_file(options)
    assert "platform.json" in raised.value.message


@pytest.mark.parametrize("text", ["{not json", '{"python": {}}', "[]",
                                  json.dumps(platform_json(tags=[]))])
def test_a_malformed_fingerprint_is_named(tmp_path: Path, text: str) -> None:
    project = project_with(tmp_path, platform_json())
    (project / "platform.json").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(
            "the platform fingerprint platform.json is not one that 'wheelferry fingerprint' "
            "makes")) as raised:
        provided_mod.from_file(load_options(project))
    assert "python3 fingerprint.py > platform.json" in str(raised.value.hint)
