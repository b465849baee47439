"""report: sizes in the unit they are."""

from __future__ import annotations

import pytest

from wheelferry.report import format_size


@pytest.mark.parametrize(("size", "shown"), [
    (0, "0 B"),
    (1023, "1023 B"),
    (1024, "1.0 KiB"),
    (1536, "1.5 KiB"),
    (72 * 1024 * 1024, "72.0 MiB"),
    (3 * 1024 ** 3, "3.0 GiB"),
    (5 * 1024 ** 4, "5120.0 GiB"),
])
def test_sizes_are_binary_units_labelled_as_such(size: int, shown: str) -> None:
    assert format_size(size) == shown
