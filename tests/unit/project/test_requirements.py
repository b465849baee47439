"""requirements: the one reading of requirement files' lines, the checks that refuse inputs that
cannot be locked with hashes, and the pins of a lock. No engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version
from tests.support import LOCK_BODY, pin, project_options, sha, write_project

from wheelferry.core.errors import LockError
from wheelferry.locking.freshness import header_line
from wheelferry.locking.lock import plan_locks
from wheelferry.locking.project import read_project
from wheelferry.project.config import load_options
from wheelferry.project.requirements import check_input, logical_lines, merge, read_lock

# -- logical lines --------------------------------------------------------------------------------


def test_logical_lines_join_continuations_and_drop_comments() -> None:
    text = ("# a comment line\n"
            "\n"
            "wferryfx-pure  # why we need it\n"
            "wferryfx-cext>=1.0,\\\n"
            "  <2\n"
            "   \n"
            "wferryfx-tomlish ; python_version < '3.11' \\\n"
            "    --hash=sha256:abc \\\n"
            "    --hash=sha256:def\n"
            "-c base.txt\n")
    assert logical_lines(text) == [
        (3, "wferryfx-pure"),
        (4, "wferryfx-cext>=1.0,  <2"),
        (7, "wferryfx-tomlish ; python_version < '3.11'     --hash=sha256:abc     "
            "--hash=sha256:def"),
        (10, "-c base.txt"),
    ]


def test_a_comment_line_never_continues_and_a_hash_inside_a_word_is_kept() -> None:
    # A backslash at the end of a comment does not swallow the next line (pip's rule), and '#'
    # starts a comment only at the start of a line or after whitespace.
    text = "# see below \\\nwferryfx-pure\npkg @ https://example.org/pkg.tar.gz#egg=pkg\n"
    assert logical_lines(text) == [
        (2, "wferryfx-pure"), (3, "pkg @ https://example.org/pkg.tar.gz#egg=pkg")]


def test_a_continuation_at_the_end_of_the_file_is_kept() -> None:
    assert logical_lines("wferryfx-pure \\\n") == [(1, "wferryfx-pure")]
    assert logical_lines("") == []


# -- pins -----------------------------------------------------------------------------------------


def test_read_lock_reads_pins_with_hashes_across_continuation_lines(tmp_path: Path) -> None:
    lock = tmp_path / "base.txt"
    project = read_project(project_options(tmp_path, {"base.in": "x\n"}))
    lock.write_text(header_line(project, "0" * 64) + LOCK_BODY)
    pins = {pin.name: pin for pin in read_lock(lock)}
    assert sorted(pins) == ["wferryfx-needs-pure", "wferryfx-pure", "wferryfx-tomlish"]
    pure = pins[canonicalize_name("wferryfx-pure")]
    assert pure.version == Version("1.0")
    assert pure.hashes == {f"sha256:{sha('pure-sdist')}", f"sha256:{sha('pure-wheel')}"}
    assert pure.lock == lock
    assert pure.allows(sha("pure-wheel"))
    assert not pure.allows(sha("something else"))
    low, high = sorted([sha("pure-sdist"), sha("pure-wheel")])
    assert pure.line == f"wferryfx-pure==1.0 --hash=sha256:{low} --hash=sha256:{high}"
    assert pins[canonicalize_name("wferryfx-tomlish")].hashes == {f"sha256:{sha('tomlish')}"}


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (f"wferryfx-pure>=1.0 --hash=sha256:{sha('x')}",
         ["not an exact pin", "wferryfx-pure>=1.0"]),
        (f"wferryfx-pure --hash=sha256:{sha('x')}", ["not an exact pin"]),
        ("wferryfx-pure==1.0", ["has no hashes", "wferryfx-pure==1.0"]),
    ],
)
def test_read_lock_refuses_what_wheelferry_lock_never_writes(
        tmp_path: Path, line: str, words: list[str]) -> None:
    lock = tmp_path / "requirements" / "base.txt"
    lock.parent.mkdir()
    lock.write_text(f"# a comment\n{line}\n")
    with pytest.raises(LockError) as caught:
        read_lock(lock)
    assert str(lock) in caught.value.message
    for word in words:
        assert word in caught.value.message
    assert caught.value.exit_code == 4


def test_merge_keeps_one_pin_per_package_and_refuses_two_versions(tmp_path: Path) -> None:
    base, dev = tmp_path / "base.txt", tmp_path / "dev.txt"
    same_a = pin("Wferryfx_Pure", "1.0", {"sha256:a", "sha256:b"}, base)
    same_b = pin("wferryfx-pure", "1.0", {"sha256:b"}, dev)
    other = pin("wferryfx-cext", "1.0", {"sha256:c"}, dev)
    merged = merge([(same_a,), (same_b, other)])
    assert [(p.name, str(p.version)) for p in merged] == [
        ("wferryfx-cext", "1.0"), ("wferryfx-pure", "1.0")]
    assert merged[1].hashes == {"sha256:b"}

    newer = pin("wferryfx-pure", "2.0", {"sha256:d"}, dev)
    with pytest.raises(LockError) as caught:
        merge([(same_a,), (newer,)])
    message = caught.value.message
    assert "wferryfx-pure" in message
    assert "1.0" in message
    assert "2.0" in message
    assert "base.txt" in message
    assert "dev.txt" in message
    assert caught.value.hint is not None
    assert "-c base.txt" in caught.value.hint


# -- refused inputs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("-e .", ["editable, VCS, URL or local-path"]),
        ("--editable ./src/tool", ["editable, VCS, URL or local-path"]),
        ("git+https://github.com/example/tool.git@v1.0#egg=tool",
         ["editable, VCS, URL or local-path"]),
        ("tool @ git+https://github.com/example/tool.git", ["editable, VCS, URL or local-path"]),
        ("https://example.org/tool-1.0.tar.gz", ["editable, VCS, URL or local-path"]),
        ("./vendor/tool-1.0.tar.gz", ["editable, VCS, URL or local-path"]),
        ("../tool", ["editable, VCS, URL or local-path"]),
        ("wferryfx-pure==", ["not a valid requirement"]),
        ("wferryfx pure", ["not a valid requirement"]),
        ("--find-links vendor", ["option", "not supported"]),
    ],
)
def test_check_input_refuses_naming_the_file_and_line(
        tmp_path: Path, line: str, words: list[str]) -> None:
    options = project_options(tmp_path, {"base.in": f"# tools\nwferryfx-pure\n{line}\n"})
    source = options.requirements[0]
    with pytest.raises(LockError) as caught:
        check_input(source, options.project_dir)
    message = caught.value.message
    assert message.startswith("requirements/base.in line 3")
    assert repr(line.strip()) in message
    for word in words:
        assert word in message
    assert caught.value.exit_code == 4
    # plan_locks checks every input before anything runs.
    with pytest.raises(LockError, match=r"requirements/base\.in line 3"):
        plan_locks(read_project(options))


def test_check_input_refuses_references_outside_the_project_or_missing(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "-c ../../elsewhere.txt\n"})
    with pytest.raises(LockError, match=r"base.in line 1 .*outside the project"):
        check_input(options.requirements[0], options.project_dir)
    options = project_options(tmp_path, {"base.in": "wferryfx-pure\n-r missing.in\n"})
    with pytest.raises(LockError, match=r"base.in line 2 .*'missing.in', which does not exist"):
        check_input(options.requirements[0], options.project_dir)


def test_check_input_accepts_names_markers_options_and_continuations(tmp_path: Path) -> None:
    options = project_options(tmp_path, {
        "base.in": "wferryfx-pure\n",
        "dev.in": ("-c base.txt\n--prefer-binary\n# comment\n"
                   "wferryfx-tomlish ; python_version < '3.11'  # needed below 3.11\n"
                   "wferryfx-cext>=1.0,\\\n  <2\n"),
    })
    (options.project_dir / "requirements" / "base.txt").write_text("")
    for source in options.requirements:
        check_input(source, options.project_dir)


def test_non_utf8_input_and_lock_give_named_errors(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"base.in": "six\n"})
    source = project / "requirements" / "base.in"
    source.write_bytes("# M\u00fcller\nsix\n".encode("cp1252"))
    with pytest.raises(LockError, match=r"base\.in is not UTF-8"):
        plan_locks(read_project(load_options(project)))
    lock = project / "requirements" / "base.txt"
    lock.write_bytes("# M\u00fcller\n".encode("cp1252"))
    with pytest.raises(LockError, match=r"base\.txt is not UTF-8"):
        read_lock(lock)
