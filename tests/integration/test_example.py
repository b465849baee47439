"""The shipped example, as the README's main command runs it: pyradiomics 3.0.1 for Python 3.10
(no wheel for 3.10; its setup.py imports numpy) from the public index. Its compiled extensions
must import in the target image, built against the numpy that ships beside them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.support import WHEELFERRY

from wheelferry.bundling import sbom

pytestmark = [pytest.mark.engine, pytest.mark.pypi]

REPOSITORY = Path(__file__).resolve().parents[2]


def reviewed(project: Path) -> Any:
    """`wheelferry review` of the example: the four files, the SBOM valid, pyradiomics in the
    lock as built here; review.json's content."""
    review = subprocess.run([WHEELFERRY, "review", "-p", str(project)], capture_output=True,
                            text=True)
    assert review.returncode == 0, review.stderr
    for name in ("review.html", "review.json", "sbom.cdx.json", "pylock.toml"):
        assert (project / name).is_file(), name
    assert sbom.validate((project / "sbom.cdx.json").read_text()) is None
    assert 'name = "pyradiomics"' in (project / "pylock.toml").read_text()
    data = json.loads((project / "review.json").read_text())
    pyradiomics = next(d for d in data["distributions"] if d["name"] == "pyradiomics")
    assert pyradiomics["build"]["sdist"] == "pyradiomics-3.0.1.tar.gz"
    assert pyradiomics["licence"] != "unknown"
    return data


def blank_copy(source: Path, project: Path) -> Path:
    """The example as a new user starts it: its pyproject.toml and its .in files only (no lock,
    no build lock, no wheelhouse), so nothing committed stands in for a fresh run."""
    for path in [source / "pyproject.toml", *source.rglob("*.in")]:
        if ".wheelferry" in path.parts or "wheelhouse" in path.parts:
            continue
        copy = project / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy)
    return project


def test_the_shipped_example_builds_and_its_extensions_import(tmp_path: Path) -> None:
    """From a blank copy with the defaults (uv locks pyradiomics from its static metadata):
    its undeclared `import numpy` is found when it is built."""
    project = tmp_path / "example"
    blank_copy(REPOSITORY, project)
    assert sorted(p.name for p in (project / "requirements").iterdir()) == ["base.in"]
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
    review = reviewed(project)
    assert {d["name"] for d in review["distributions"]} >= {"pyradiomics", "numpy"}


def test_the_platform_example_ships_only_what_the_workstation_lacks(tmp_path: Path) -> None:
    """examples/platform: a workstation replica (built from the public index) that holds numpy
    1.26.4, pandas 2.1.4 and SimpleITK. The wheelhouse leaves those out, pyradiomics is built
    against the workstation's numpy, the proof is the workstation's own start, and afterwards a
    desktop start has both pyradiomics' extensions and the workstation's own pandas working."""
    subprocess.run(["bash", str(REPOSITORY / "scripts" / "build-example-workstation.sh")],
                   check=True, capture_output=True)
    project = blank_copy(REPOSITORY / "examples" / "platform", tmp_path / "platform")
    assert sorted(p.name for p in project.iterdir()) == ["pyproject.toml", "requirements.in"]
    build = subprocess.run([WHEELFERRY, "build", "-p", str(project)], capture_output=True,
                           text=True)
    assert build.returncode == 0, build.stderr
    manifest = json.loads((project / "wheelhouse" / "wheelferry-manifest.json").read_text())
    assert manifest["provided"]["numpy"] == "1.26.4"
    assert "simpleitk" in manifest["provided"]
    wheels = {w["name"]: w for w in manifest["wheels"]}
    assert "numpy" not in wheels
    assert "simpleitk" not in wheels
    assert "numpy==1.26.4" in wheels["pyradiomics"]["build_requires"]
    assert sum(w["size"] for w in manifest["wheels"]) < 10 * 1024 * 1024
    verify = subprocess.run([WHEELFERRY, "verify", "-p", str(project)], capture_output=True,
                            text=True)
    assert verify.returncode == 0, verify.stderr
    assert "the platform's own packages still import" in verify.stderr
    assert subprocess.run([WHEELFERRY, "init-script", "-p", str(project)],
                          capture_output=True).returncode == 0
    review = reviewed(project)
    provided = {d["name"]: d["version"] for d in review["distributions"]
                if d["origin"] == "provided"}
    assert provided["numpy"] == "1.26.4"

    persistent = tmp_path / "persistent-home"
    persistent.mkdir()
    shutil.copy(project / "init.sh", persistent / "init.sh")
    shutil.copytree(project / "wheelhouse", persistent / "my-tools")
    for path in [persistent, *persistent.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o644)
    script = ("import radiomics._cmatrices, radiomics._cshape, pandas, numpy; "
              "assert numpy.__version__ == '1.26.4', numpy.__version__; "
              "print('works', pandas.DataFrame({'a': [1, 2]}).a.sum())")
    start = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--label", "io.wheelferry=test-example",
         "--label", f"io.wheelferry.project={tmp_path.resolve()}",
         "-v", f"{persistent}:/home/chaimeleon/persistent-home",
         "wheelferry-example-workstation:1", "python3", "-c", script],
        capture_output=True, text=True, timeout=600)
    assert start.returncode == 0, start.stdout + start.stderr
    assert "works 3" in start.stdout
