"""What probe.py reports of an image's Python, parsed once: the target's interpreter, and the
platform image's facts (with what older records lack taking its default); a value of the wrong
kind is an ImageError, not a traceback."""

from __future__ import annotations

import json
import platform as platform_module
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wheelferry.core.errors import ImageError
from wheelferry.engine import specs as containers
from wheelferry.target.probe_report import Interpreter, PlatformFacts, interpreter, platform

TARGET = {"version": "3.10.13", "implementation": "cpython", "machine": "x86_64",
          "tags": ["cp310-cp310-manylinux_2_35_x86_64", "py3-none-any"]}
PLATFORM = {**TARGET, "libc": "glibc", "libc_version": "2.35", "uid": 1000, "gid": 1000,
            "home": "/home/chaimeleon", "user_site_enabled": True, "externally_managed": False,
            "executable": "/usr/bin/python3", "distributions": [["numpy", "1.26.4"]],
            "libraries": ["libz.so.1"]}
INTERPRETER = Interpreter(version="3.10.13", implementation="cpython", machine="x86_64",
                          tags=("cp310-cp310-manylinux_2_35_x86_64", "py3-none-any"))


def test_the_target_probe_becomes_its_interpreter() -> None:
    assert interpreter(TARGET) == INTERPRETER


def test_the_platform_probe_becomes_its_facts() -> None:
    assert platform(PLATFORM) == PlatformFacts(
        interpreter=INTERPRETER, home="/home/chaimeleon", user_site_enabled=True,
        externally_managed=False, libc="glibc", libc_version="2.35",
        distributions=(("numpy", "1.26.4"),), libraries=("libz.so.1",))


def test_a_record_from_before_the_probe_told_its_libraries_has_none() -> None:
    older = {key: value for key, value in PLATFORM.items()
             if key not in ("libraries", "libc", "libc_version")}
    found = platform(older)
    assert (found.libraries, found.libc, found.libc_version) == (None, "", "")


@pytest.mark.parametrize("change", [
    {"version": 3.10}, {"machine": None}, {"tags": "py3-none-any"}, {"tags": [1]},
])
def test_a_malformed_target_probe_is_an_image_error(change: dict[str, Any]) -> None:
    with pytest.raises(ImageError, match="the image probe's report has a malformed"):
        interpreter({**TARGET, **change})
    with pytest.raises(ImageError):
        interpreter({key: value for key, value in TARGET.items() if key not in change})


@pytest.mark.parametrize("change", [
    {"home": None}, {"user_site_enabled": "yes"}, {"externally_managed": 0},
    {"distributions": [["numpy"]]}, {"distributions": {"numpy": "1.26.4"}},
    {"libraries": "libz.so.1"}, {"libc": 2}, {"implementation": None},
])
def test_a_malformed_platform_probe_is_an_image_error(change: dict[str, Any]) -> None:
    with pytest.raises(ImageError, match="the image probe's report has a malformed"):
        platform({**PLATFORM, **change})


def test_a_report_that_is_not_an_object_is_an_image_error() -> None:
    with pytest.raises(ImageError):
        interpreter(["3.10.13"])


@pytest.mark.parametrize("flags", [[], ["--platform"]])
def test_what_the_probe_script_prints_here_parses(flags: list[str]) -> None:
    script = containers.SCRIPTS_DIR / "probe.py"
    done = subprocess.run([sys.executable, str(script), *flags], capture_output=True,
                          text=True, check=True)
    data = json.loads(done.stdout.strip().splitlines()[-1].removeprefix("WHEELFERRY-PROBE "))
    found = platform(data).interpreter if flags else interpreter(data)
    assert found.version == platform_module.python_version()
    assert found.machine == platform_module.machine()
    if flags:
        assert platform(data).home == str(Path.home())
