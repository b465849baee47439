"""The shipped example, as the README's main command runs it: pyradiomics 3.0.1 for Python 3.10
(no wheel for 3.10; its setup.py imports numpy) from the public index. Its compiled extensions
must import in the target image, built against the numpy that ships beside them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.support import WHEELFERRY

pytestmark = [pytest.mark.engine, pytest.mark.pypi]

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_shipped_example_builds_and_its_extensions_import(tmp_path: Path) -> None:
    project = tmp_path / "example"
    project.mkdir()
    shutil.copy(REPOSITORY / "pyproject.toml", project / "pyproject.toml")
    shutil.copytree(REPOSITORY / "requirements", project / "requirements")
    build = subprocess.run([WHEELFERRY, "build", "--project", str(project)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    manifest = json.loads((project / "wheelhouse" / "wheelferry-manifest.json").read_text())
    wheels = {w["name"]: w for w in manifest["wheels"]}
    assert wheels["pyradiomics"]["origin"] == "built"
    numpy = f"numpy=={wheels['numpy']['version']}"
    assert numpy in wheels["pyradiomics"]["build_requires"]
    verify = subprocess.run([WHEELFERRY, "verify", "--verbose", "--project", str(project)],
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    for module in ("radiomics", "radiomics._cmatrices", "radiomics._cshape"):
        assert f"import {module}  (pyradiomics): ok" in verify.stderr
