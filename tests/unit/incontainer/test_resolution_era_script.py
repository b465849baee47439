"""The lock container's era of old pins (incontainer/resolution_era.py), its pure parts: the day
of the newest exact pin, floored at the target Python's release; each unnamed dependency's
release of that day (a wheel here preferred); the relock with those caps, its conflicts and what
it reports. No engine, no network: the resolver is a stand-in that writes the lock."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from packaging.tags import Tag
from tests.support import incontainer_script

era_mod = incontainer_script("resolution_era")

HERE = frozenset({Tag("py3", "none", "any"), Tag("cp310", "cp310", "manylinux_2_17_x86_64")})
PYTHON = "3.10.14"


def file(filename: str, day: str, requires_python: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"filename": filename,
                            "hashes": {"sha256": hashlib.sha256(filename.encode()).hexdigest()},
                            "upload-time": f"{day}T12:00:00.000000Z"}
    if requires_python:
        data["requires-python"] = requires_python
    return data


LISTINGS: dict[str, list[dict[str, Any]]] = {
    "oldpin": [file("oldpin-1.0.tar.gz", "2020-03-01"), file("oldpin-2.0.tar.gz", "2024-01-01")],
    "recentpin": [file("recentpin-3.0-py3-none-any.whl", "2022-06-01")],
    "drift": [
        file("drift-1.0-py3-none-any.whl", "2019-01-01"),
        file("drift-1.5-py3-none-any.whl", "2021-12-01"),
        file("drift-2.0-py3-none-any.whl", "2025-01-01"),
    ],
    # No wheel for cp310 of its day: the first later release with one is taken.
    "numlike": [
        file("numlike-1.0-cp39-cp39-manylinux_2_17_x86_64.whl", "2021-01-01"),
        file("numlike-1.0.tar.gz", "2021-01-01"),
        file("numlike-1.1-cp310-cp310-manylinux_2_17_x86_64.whl", "2022-02-01"),
        file("numlike-2.0-cp310-cp310-manylinux_2_17_x86_64.whl", "2025-01-01"),
    ],
}


def listing(project: str) -> list[dict[str, Any]] | None:
    return LISTINGS.get(project)


def test_the_pins_and_the_names_a_requirements_file_states() -> None:
    text = ("# a paper's pins\noldpin==1.0  # the method\nrecentpin == 3.0\nDrift>=1\n"
            "-c other.txt\n--index-url https://example.org/simple\nwild==1.*\n")
    assert era_mod.exact_pins([text]) == {"oldpin": "1.0", "recentpin": "3.0"}
    assert era_mod.named([text]) == {"oldpin", "recentpin", "drift", "wild"}


def test_the_era_is_the_day_of_the_newest_pin_never_before_the_target_python() -> None:
    era = era_mod.era_of({"oldpin": "1.0", "recentpin": "3.0"}, listing, python_version=PYTHON)
    assert era.date == "2022-06-01"
    assert era.because == "recentpin 3.0 (2022-06-01)"
    floored = era_mod.era_of({"oldpin": "1.0"}, listing, python_version=PYTHON)
    assert floored.date == "2021-10-04"
    assert floored.because == "oldpin 1.0 (2020-03-01); no older than Python 3.10's 2021-10-04"
    assert era_mod.era_of({}, listing, python_version=PYTHON) is None
    assert era_mod.era_of({"unknown": "1.0"}, listing, python_version=PYTHON) is None


def test_unnamed_dependencies_are_capped_at_their_release_of_the_era() -> None:
    era = era_mod.era_of({"oldpin": "1.0"}, listing, python_version=PYTHON)
    found = era_mod.caps({"oldpin": "1.0", "drift": "2.0", "numlike": "2.0"}, era, listing,
                         keep={"oldpin"}, supported=HERE, python_version=PYTHON)
    # drift: 1.0 is the newest before 2021-10-04; numlike 1.0 has no cp310 wheel, 1.1 does.
    assert found == {"drift": "1.0", "numlike": "1.1"}
    assert era_mod.constraint_lines(found) == "drift<=1.0\nnumlike<=1.1\n"
    # Nor the installer's own packages: an old setuptools breaks the platform's newer pip.
    tools = {"setuptools": [file("setuptools-58.2.0-py3-none-any.whl", "2021-10-01"),
                            file("setuptools-80.9.0-py3-none-any.whl", "2025-05-27")]}
    assert era_mod.caps({"setuptools": "80.9.0"}, era, tools.get, keep=set(), supported=HERE,
                        python_version=PYTHON) == {}
    # What the user names is never capped; nor what is already of the era.
    assert era_mod.caps({"drift": "2.0", "numlike": "1.1"}, era, listing, keep={"drift"},
                        supported=HERE, python_version=PYTHON) == {}


def lock_text(pins: dict[str, str]) -> str:
    return "".join(f"{name}=={version} \\\n    --hash=sha256:{'0' * 64}\n"
                   for name, version in sorted(pins.items()))


def test_the_relock_takes_the_eras_releases_and_says_which(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(lock_text({"oldpin": "1.0", "drift": "2.0"}))
    era = era_mod.era_of({"oldpin": "1.0"}, listing, python_version=PYTHON)
    calls: list[list[str]] = []

    def resolver(extra: list[str]) -> tuple[int, str]:
        calls.append(extra)
        caps = (tmp_path / extra[1]).read_text()
        assert caps == "drift<=1.0\n"
        lock.write_text(lock_text({"oldpin": "1.0", "drift": "1.0"}))
        return 0, ""

    said = era_mod.relock(lock, era, listing, keep={"oldpin"}, supported=HERE,
                          python_version=PYTHON, folder=tmp_path, compile_with=resolver)
    assert calls == [["--constraint", "wheelferry-as-of-2021-10-04.txt"]]
    assert said == {"date": "2021-10-04", "because": era.because, "capped": {"drift": "1.0"}}
    assert "drift==1.0" in lock.read_text()


def test_a_cap_the_resolver_finds_in_conflict_takes_todays_release(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(lock_text({"oldpin": "1.0", "drift": "2.0", "numlike": "2.0"}))
    era = era_mod.era_of({"oldpin": "1.0"}, listing, python_version=PYTHON)
    seen: list[str] = []

    def resolver(extra: list[str]) -> tuple[int, str]:
        caps = (tmp_path / extra[1]).read_text()
        seen.append(caps)
        if "numlike" in caps:
            return 1, "Because oldpin==1.0 depends on numlike>=2 and numlike<=1.1, no solution"
        lock.write_text(lock_text({"oldpin": "1.0", "drift": "1.0", "numlike": "2.0"}))
        return 0, ""

    said = era_mod.relock(lock, era, listing, keep={"oldpin"}, supported=HERE,
                          python_version=PYTHON, folder=tmp_path, compile_with=resolver)
    assert seen == ["drift<=1.0\nnumlike<=1.1\n", "drift<=1.0\n"]
    assert said["capped"] == {"drift": "1.0"}


def test_when_the_era_cannot_be_locked_todays_lock_stands(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    today = lock_text({"oldpin": "1.0", "drift": "2.0"})
    lock.write_text(today)
    era = era_mod.era_of({"oldpin": "1.0"}, listing, python_version=PYTHON)

    def resolver(extra: list[str]) -> tuple[int, str]:
        lock.write_text("half-written")
        return 1, "no solution: drift<=1.0 and oldpin needs drift>=2"

    said = era_mod.relock(lock, era, listing, keep={"oldpin"}, supported=HERE,
                          python_version=PYTHON, folder=tmp_path, compile_with=resolver)
    assert said == {"date": "2021-10-04", "because": era.because,
                    "skipped": "the resolver found no set of them that fits together"}
    assert lock.read_text() == today


def test_a_dependency_the_eras_lock_brings_is_capped_too(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(lock_text({"oldpin": "1.0", "drift": "2.0"}))
    era = era_mod.era_of({"oldpin": "1.0"}, listing, python_version=PYTHON)
    rounds: list[str] = []

    def resolver(extra: list[str]) -> tuple[int, str]:
        caps = (tmp_path / extra[1]).read_text()
        rounds.append(caps)
        # drift 1.0 depends on numlike, which today's drift did not.
        numlike = "1.1" if "numlike" in caps else "2.0"
        lock.write_text(lock_text({"oldpin": "1.0", "drift": "1.0", "numlike": numlike}))
        return 0, ""

    said = era_mod.relock(lock, era, listing, keep={"oldpin"}, supported=HERE,
                          python_version=PYTHON, folder=tmp_path, compile_with=resolver)
    assert rounds == ["drift<=1.0\n", "drift<=1.0\nnumlike<=1.1\n"]
    assert said["capped"] == {"drift": "1.0", "numlike": "1.1"}
    assert "numlike==1.1" in lock.read_text()


def test_nothing_older_means_no_relock(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(lock_text({"recentpin": "3.0", "drift": "1.5"}))
    era = era_mod.era_of({"recentpin": "3.0"}, listing, python_version=PYTHON)

    def resolver(extra: list[str]) -> tuple[int, str]:
        raise AssertionError("no relock was needed")

    assert era_mod.relock(lock, era, listing, keep={"recentpin"}, supported=HERE,
                          python_version=PYTHON, folder=tmp_path, compile_with=resolver) is None
