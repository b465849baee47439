"""The retry with the build tools of an sdist's day (incontainer/dated_build.py), its pure part:
which build requirements are taken at the lock's version and which are dated. No engine."""

from __future__ import annotations

from tests.support import incontainer_script

dated_build = incontainer_script("dated_build")


def test_a_retry_of_its_day_keeps_what_the_lock_pins_but_not_its_build_tools() -> None:
    locked = {"numpy": "numpy==2.2.6 --hash=sha256:aa", "cython": "cython==3.3.1 --hash=sha256:bb",
              "scipy": "scipy==1.15.0 --hash=sha256:cc"}
    kept, dated = dated_build.split_locked(
        ["setuptools", "cython>=0.29", "oldest-supported-numpy", "scipy<1.10", "pybind11"],
        locked)
    # numpy stands for oldest-supported-numpy: built against the numpy that ships.
    assert kept == ["numpy==2.2.6 --hash=sha256:aa"]
    # Cython is a build tool: of its day although the lock pins 3.3.1; a scipy bound the lock
    # does not meet is dated too.
    assert dated == ["setuptools", "cython>=0.29", "scipy<1.10", "pybind11"]
