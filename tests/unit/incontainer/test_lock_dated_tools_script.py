"""incontainer/lock_dated_tools.py: which sdist of a package a lock dates (the version the input
or the previous lock pins, else the newest sdist). No engine, no network."""

from __future__ import annotations

from types import ModuleType

from tests.support import incontainer_script


def script() -> ModuleType:
    return incontainer_script("lock_dated_tools")


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
