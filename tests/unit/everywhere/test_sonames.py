"""sonames: the shared libraries the loader finds, as the platform image's probe and the
fingerprint script report them."""

from __future__ import annotations

from wheelferry.everywhere.sonames import shared_libraries


def test_the_loader_s_libraries_are_listed_by_soname_once_each() -> None:
    listed = shared_libraries()
    assert "libc.so.6" in listed  # the test machine uses glibc
    assert listed == sorted(set(listed))
    assert all(".so" in name and "/" not in name for name in listed)
