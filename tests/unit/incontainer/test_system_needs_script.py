"""incontainer/system_needs.py: the OS part a failed build lacked, and the Debian package that
brings it (the build logs quoted are real compilers' and builds' words)."""

from __future__ import annotations

import pytest

from wheelferry.core.diagnose import diagnose, system_need_advice
from wheelferry.incontainer.system_needs import SystemNeed, missing_system_part


@pytest.mark.parametrize(("log", "need"), [
    ("psycopg/psycopg.h:36:10: fatal error: libpq-fe.h: No such file or directory",
     SystemNeed("header", "libpq-fe.h", "libpq-dev")),
    ("Error: pg_config executable not found.\n\npg_config is required to build psycopg2 from "
     "source.", SystemNeed("program", "pg_config", "libpq-dev")),
    ("Modules/LDAPObject.c:3:10: fatal error: lber.h: No such file or directory",
     SystemNeed("header", "lber.h", "libldap-dev")),
    ("Package hdf5 was not found in the pkg-config search path.",
     SystemNeed("pkg-config module", "hdf5", "libhdf5-dev")),
    ("No package 'libxml-2.0' found", SystemNeed("pkg-config module", "libxml-2.0",
                                                 "libxml2-dev")),
    ("/usr/bin/ld: cannot find -ljansson: No such file or directory",
     SystemNeed("library", "jansson", "libjansson-dev")),
    ("x.c:1:10: fatal error: wferryfx_unknown.h: No such file or directory",
     SystemNeed("header", "wferryfx_unknown.h", "")),
])
def test_the_missing_os_part_and_its_package(log: str, need: SystemNeed) -> None:
    assert missing_system_part(log) == need


def test_no_os_part_in_a_python_failure() -> None:
    assert missing_system_part("ModuleNotFoundError: No module named 'numpy'") is None


def test_the_advice_adds_to_what_is_configured() -> None:
    advice = system_need_advice("psycopg2", SystemNeed("header", "libpq-fe.h", "libpq-dev"),
                                ("libssl-dev",))
    assert "the header libpq-fe.h from the operating system" in advice.summary
    assert ('[tool.wheelferry.overrides.psycopg2]\nsystem-packages = ["libssl-dev", "libpq-dev"]'
            in advice.hint)
    unknown = system_need_advice("x", SystemNeed("library", "weird"))
    assert 'system-packages = ["PACKAGE"]' in unknown.hint
    assert "apt-file search weird" in unknown.hint


def test_diagnose_names_the_setting_for_a_named_package() -> None:
    found = diagnose("fatal error: yaml.h: No such file or directory\n", package="pyyaml")
    assert found is not None
    assert 'system-packages = ["libyaml-dev"]' in found.hint
