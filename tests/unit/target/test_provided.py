"""provided: what the platform already has, from a freeze file or a listing."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version
from tests.support import write_project

from wheelferry.core.errors import ConfigError
from wheelferry.project.config import load_options
from wheelferry.target import provided

FREEZE = """\
numpy==1.26.4
# a comment
Pandas==2.1.4
SimpleITK==2.3.1   # trailing comment

scikit_learn==1.3.2
"""


def test_a_freeze_file_gives_canonical_names_and_versions() -> None:
    found = provided.parse_freeze(FREEZE, shown="platform-freeze.txt")
    assert [(str(n), str(v)) for n, v in found.packages] == [
        ("numpy", "1.26.4"), ("pandas", "2.1.4"), ("scikit-learn", "1.3.2"),
        ("simpleitk", "2.3.1")]
    assert found.version("SimpleITK") == Version("2.3.1")
    assert found.version("scipy") is None
    assert found.source == "the freeze file platform-freeze.txt"


@pytest.mark.parametrize(("line", "number"), [
    ("numpy>=1.26", 2),
    ("pkg @ file:///tmp/build/pkg", 2),
    ("-e git+https://example.org/x.git#egg=x", 2),
    ("numpy==not a version", 2),
])
def test_a_malformed_freeze_line_is_named_with_the_way_to_make_the_file(
        line: str, number: int) -> None:
    with pytest.raises(ConfigError) as caught:
        provided.parse_freeze(f"six==1.16.0\n{line}\n", shown="platform-freeze.txt")
    assert f"platform-freeze.txt line {number}" in caught.value.message
    assert line.strip() in caught.value.message
    assert caught.value.hint is not None
    assert "pip list --format=freeze" in caught.value.hint


def test_constraints_pin_everything_but_what_is_replaced() -> None:
    found = provided.parse_freeze(FREEZE, shown="f")
    text = provided.parse_freeze(FREEZE, shown="f").constraints(replace=["NumPy"])
    assert "numpy" not in text
    assert "pandas==2.1.4\n" in text
    assert "simpleitk==2.3.1\n" in text
    assert found.constraints().count("==") == 4


def test_the_digest_changes_with_any_name_or_version_only() -> None:
    one = provided.parse_freeze(FREEZE, shown="a")
    same = provided.parse_freeze(FREEZE.replace("# a comment\n", ""), shown="b")
    newer = provided.parse_freeze(FREEZE.replace("1.26.4", "1.26.5"), shown="a")
    assert one.digest() == same.digest()
    assert one.digest() != newer.digest()


def test_a_listing_keeps_the_first_of_a_name_and_drops_unparsable_versions() -> None:
    found = provided.from_listing("image x", [("numpy", "1.26.4"), ("NumPy", "2.0.0"),
                                              ("weird", "not-a-version")])
    assert [(str(n), str(v)) for n, v in found.packages] == [("numpy", "1.26.4")]


def test_the_configured_freeze_file_is_read(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"base.in": "six\n"},
                         **{"ca-bundle": "none", "provided": "platform-freeze.txt"})
    (root / "platform-freeze.txt").write_text(FREEZE)
    found = provided.from_file(load_options(root))
    assert found is not None
    assert found.source == "the freeze file platform-freeze.txt"
    assert found.version("pandas") == Version("2.1.4")


def test_a_missing_freeze_file_is_a_config_error(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"base.in": "six\n"},
                         **{"ca-bundle": "none", "provided": "nowhere.txt"})
    with pytest.raises(ConfigError, match=r"'provided'.*nowhere\.txt"):
        load_options(root)
