"""verify's static checks (proving/static_checks.py): a missing or unreadable wheelhouse says
what to run."""

from __future__ import annotations

from pathlib import Path

from tests.support import project_options

from wheelferry.project import manifest as mf
from wheelferry.proving.static_checks import REBUILD, static_problems


def test_a_missing_or_unreadable_wheelhouse_says_what_to_run(tmp_path: Path) -> None:
    options = project_options(tmp_path, {"base.in": "x\n"})
    problems, manifest = static_problems(options)
    assert manifest is None
    assert problems[0].advice == "run 'wheelferry build' first"
    options.wheelhouse.mkdir()
    problems, _ = static_problems(options)
    assert (problems[0].subject, problems[0].advice) == (mf.MANIFEST, REBUILD)
