"""The `.pth` line that links an install (onplatform/install_link.py): the install ahead of the
site it is in, and nothing when the install is gone."""

from __future__ import annotations

import sys
from pathlib import Path

from wheelferry.onplatform import install_link


def test_the_pth_line_keeps_the_install_ahead_and_tolerates_its_absence(tmp_path: Path) -> None:
    site = tmp_path / "site"
    line = install_link.pth_text(site, tmp_path / "missing")
    assert line.startswith("import sys; ")
    assert line.count("\n") == 1
    namespace: dict[str, object] = {}
    saved = list(sys.path)
    try:
        sys.path[:] = ["/a", str(site), "/b"]
        exec(line, namespace)  # what site.py does with the line
        assert sys.path == ["/a", str(site), "/b"]
        (tmp_path / "present").mkdir()
        exec(install_link.pth_text(site, tmp_path / "present"), namespace)
        assert sys.path == ["/a", str(tmp_path / "present"), str(site), "/b"]
    finally:
        sys.path[:] = saved
