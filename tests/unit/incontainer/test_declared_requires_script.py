"""incontainer/declared_requires.py: what an sdist declares for its build (pyproject's
build-system.requires, else the legacy default, plus setup_requires) and what a built wheel's
metadata requires, hidden ones too."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from wheelferry.incontainer import declared_requires as needs


def make_sdist(path: Path, files: Mapping[str, str]) -> Path:
    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as archive:
            for name, text in files.items():
                archive.writestr(name, text)
        return path
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


PYPROJECT = '[build-system]\nrequires = ["setuptools>=61", "cython<3"]\n'


def test_build_requires_from_pyproject(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "old-1.0.tar.gz", {
        "old-1.0/pyproject.toml": PYPROJECT,
        "old-1.0/vendored/pyproject.toml": '[build-system]\nrequires = ["flit_core"]\n',
        "old-1.0/setup.py": "",
    })
    assert needs.sdist_build_requires(sdist) == ["setuptools>=61", "cython<3"]
    zipped = make_sdist(tmp_path / "old-1.0.zip", {"old-1.0/pyproject.toml": PYPROJECT})
    assert needs.sdist_build_requires(zipped) == ["setuptools>=61", "cython<3"]


@pytest.mark.parametrize("files", [
    {"old-1.0/setup.py": ""},
    {"old-1.0/setup.py": "", "old-1.0/pyproject.toml": "[tool.black]\nline-length = 99\n"},
    {"old-1.0/setup.py": "", "old-1.0/sub/pyproject.toml": PYPROJECT},
], ids=["no-pyproject", "no-build-system", "nested-only"])
def test_legacy_default_build_requires(tmp_path: Path, files: dict[str, str]) -> None:
    sdist = make_sdist(tmp_path / "old-1.0.tar.gz", files)
    assert needs.sdist_build_requires(sdist) == ["setuptools>=40.8.0", "wheel"]


def test_malformed_build_requires_is_an_error(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "old-1.0.tar.gz", {
        "old-1.0/pyproject.toml": '[build-system]\nrequires = "setuptools"\n'})
    with pytest.raises(ValueError, match="not a list of strings"):
        needs.sdist_build_requires(sdist)


def _sdist(tmp_path: Path, files: dict[str, str]) -> Path:
    path = tmp_path / "demo-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"demo-1.0/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_declared_build_requires_keep_setup_requires_from_setup_py(tmp_path: Path) -> None:
    sdist = _sdist(tmp_path, {"setup.py": (
        "from setuptools import setup\nNEEDS = ['cython>=0.29', 'numpy']\n"
        "setup(name='demo', setup_requires=NEEDS)\n")})
    assert needs.declared_build_requires(sdist) == [
        "setuptools>=40.8.0", "wheel", "cython>=0.29", "numpy"]


def test_declared_build_requires_read_pyproject_and_setup_cfg(tmp_path: Path) -> None:
    sdist = _sdist(tmp_path, {
        "pyproject.toml": '[build-system]\nrequires = ["setuptools", "oldest-supported-numpy"]\n',
        "setup.cfg": "[options]\nsetup_requires =\n    pytest-runner\n    setuptools\n",
        "setup.py": "from setuptools import setup\nsetup()\n"})
    assert needs.declared_build_requires(sdist) == [
        "setuptools", "oldest-supported-numpy", "pytest-runner"]


def _wheel(tmp_path: Path, metadata: str) -> Path:
    wheel = tmp_path / "x-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("x-1.0.dist-info/METADATA", metadata)
    return wheel


def test_requirements_hidden_in_the_description_are_found(tmp_path: Path) -> None:
    # As setuptools writes sklearn 0.0's: a blank line inside author_email ends the headers.
    broken = ("Metadata-Version: 2.4\nName: x\nVersion: 1.0\nAuthor-email: UNKNOWN\nbuild_info:"
              "\n  FOUND:\n\n  FOUND:\nUNKNOWN\nRequires-Dist: scikit-learn\nDynamic: author\n")
    assert needs.hidden_requires(_wheel(tmp_path, broken)) == ["scikit-learn"]
    # A description that shows metadata, beside real headers, hides nothing.
    shown = ("Metadata-Version: 2.4\nName: x\nVersion: 1.0\nRequires-Dist: numpy\n\n"
             "Write this:\nRequires-Dist: numpy\n")
    assert needs.hidden_requires(_wheel(tmp_path, shown)) == []
    assert needs.hidden_requires(_wheel(tmp_path, "Name: x\nVersion: 1.0\n\nHello\n")) == []
