"""A wheel's licence, homepage and grafted libraries, from its METADATA."""

from __future__ import annotations

import zipfile
from pathlib import Path

from wheelferry.bundling import wheelmeta

HEAD = "Metadata-Version: 2.4\nName: Demo_Pkg\nVersion: 1.0\nSummary: A demo\n"


def test_license_expression_wins_over_classifiers() -> None:
    meta = wheelmeta.from_text(HEAD + "License-Expression: MIT OR Apache-2.0\n"
                               "Classifier: License :: OSI Approved :: BSD License\n")
    assert meta.licence == wheelmeta.Licence("MIT OR Apache-2.0", "License-Expression")
    assert meta.name == "demo-pkg"
    assert meta.summary == "A demo"


def test_classifiers_name_the_licence_when_there_is_no_expression() -> None:
    meta = wheelmeta.from_text(HEAD + "License: see file\n"
                               "Classifier: License :: OSI Approved :: BSD License\n"
                               "Classifier: License :: OSI Approved\n"
                               "Classifier: Programming Language :: Python\n")
    assert meta.licence == wheelmeta.Licence("BSD License", "classifiers")


def test_without_either_the_licence_is_unknown_keeping_the_free_text() -> None:
    meta = wheelmeta.from_text(HEAD + "License: BSD 3-clause, see LICENSE\n  more text\n")
    assert not meta.licence.known
    assert meta.licence.name == "unknown"
    assert meta.licence.text == "BSD 3-clause, see LICENSE"


def test_the_homepage_comes_from_home_page_else_project_urls() -> None:
    assert wheelmeta.from_text(HEAD + "Home-page: https://a.example\n").homepage == \
        "https://a.example"
    assert wheelmeta.from_text(HEAD + "Project-URL: Documentation, https://d.example\n"
                               "Project-URL: Homepage, https://h.example\n").homepage == \
        "https://h.example"


def test_a_wheel_is_read_with_its_grafted_libraries(tmp_path: Path) -> None:
    wheel = tmp_path / "demo_pkg-1.0-cp310-cp310-manylinux_2_34_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo_pkg-1.0.dist-info/METADATA",
                         HEAD + "Requires-Dist: numpy>=1.20\n")
        archive.writestr("demo_pkg.libs/libpq-1234abcd.so.5.16", b"\x7fELF")
        archive.writestr("demo_pkg/__init__.py", "")
    meta = wheelmeta.read(wheel)
    assert meta.grafted == ("libpq-1234abcd.so.5.16",)
    assert [str(r) for r in meta.requires] == ["numpy>=1.20"]
