"""`wheelferry lock` against the public index: markers are evaluated for the target interpreter.

black 24.8.0 needs tomli and typing-extensions only below Python 3.11: a lock made for the
python:3.10 target must pin them, although the host (3.11+) would leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from tests.support import TARGET_IMAGE, TARGET_PYTHON, wheelferry, write_project

from wheelferry.engine.client import Engine
from wheelferry.project.requirements import read_lock

pytestmark = [pytest.mark.engine, pytest.mark.pypi]

BELOW_311_ONLY = ("tomli", "typing-extensions")


@dataclass(frozen=True)
class Locked:
    project: Path
    stderr: str

    @property
    def lock(self) -> Path:
        return self.project / "requirements" / "base.txt"

    def versions(self) -> dict[str, str]:
        return {pin.name: str(pin.version) for pin in read_lock(self.lock)}


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> Locked:
    # The public index, the default network and the host's CA bundle ("auto").
    project = write_project(tmp_path_factory.mktemp("pypi") / "project",
                            {"base.in": "black==24.8.0\n"})
    result = wheelferry("lock", project=project)
    assert result.returncode == 0, result.stderr
    return Locked(project, result.stderr)


def test_the_lock_pins_what_the_target_python_needs(locked: Locked) -> None:
    assert "requirements/base.txt will be re-resolved: no lock yet" in locked.stderr
    assert "wrote requirements/base.txt" in locked.stderr
    versions = locked.versions()
    assert versions[canonicalize_name("black")] == "24.8.0"
    for name in ("click", "mypy-extensions", "packaging", "pathspec", "platformdirs"):
        assert name in versions
    # Needed below 3.11 only: the 3.10 target needs them whatever the host runs (a lock resolved
    # with the markers of a 3.11+ host drops them).
    for name in BELOW_311_ONLY:
        assert name in versions, f"{name} (needed below 3.11) is missing from the 3.10 lock"


def test_the_lock_header_records_the_target(locked: Locked) -> None:
    header = locked.lock.read_text().splitlines()[0]
    assert header.startswith(f"# wheelferry-lock: python={TARGET_PYTHON} image={TARGET_IMAGE} "
                             "arch=x86_64 fingerprint=")
    # Every pin carries hashes (read_lock refuses a pin without them).
    assert all(pin.hashes for pin in read_lock(locked.lock))


def test_a_second_lock_is_up_to_date_and_changes_nothing(locked: Locked) -> None:
    before = locked.lock.read_bytes()
    mtime = locked.lock.stat().st_mtime_ns
    result = wheelferry("lock", project=locked.project)
    assert result.returncode == 0, result.stderr
    assert "requirements/base.txt is up to date" in result.stderr
    assert "re-resolved" not in result.stderr
    assert "locking for python" not in result.stderr
    assert locked.lock.read_bytes() == before
    assert locked.lock.stat().st_mtime_ns == mtime


def test_upgrade_package_re_resolves(locked: Locked) -> None:
    before = locked.versions()
    result = wheelferry("lock", "--upgrade-package", "black", project=locked.project)
    assert result.returncode == 0, result.stderr
    assert "requirements/base.txt will be re-resolved: --upgrade-package" in result.stderr
    assert f"locking for python {TARGET_PYTHON}." in result.stderr
    assert "wrote requirements/base.txt" in result.stderr
    after = locked.versions()
    # black stays at the version the input pins; the other pins are kept as they were.
    assert after == before
    header = locked.lock.read_text().splitlines()[0]
    assert header.startswith(f"# wheelferry-lock: python={TARGET_PYTHON} image={TARGET_IMAGE} ")
    # And the re-made lock is fresh again.
    again = wheelferry("lock", project=locked.project)
    assert again.returncode == 0, again.stderr
    assert "requirements/base.txt is up to date" in again.stderr
