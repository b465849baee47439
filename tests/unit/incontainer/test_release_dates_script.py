"""incontainer/release_dates.py: the build tools of an sdist's release date, chosen from a PEP
691 listing with PEP 700 upload times, and a pin with nothing for this Python explained from
it. No engine, no network."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.tags import Tag
from tests.support import incontainer_script

dates = incontainer_script("release_dates")

PY3 = frozenset({Tag("py3", "none", "any"), Tag("cp310", "cp310", "manylinux_2_17_x86_64")})
PYTHON = "3.10.14"


def at(day: int) -> str:
    """A PEP 700 upload time, `day` days into November 2023."""
    return f"2023-11-{day:02d}T12:00:00.000000Z"


def moment(day: int) -> datetime:
    return datetime(2023, 11, day, 12, tzinfo=timezone.utc)


def entry(filename: str, uploaded: str | None, *, digest: str = "", **more: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"filename": filename, "url": f"../../packages/{filename}",
                            "hashes": {"sha256": digest or (filename.encode().hex() * 4)[:64]}}
    if uploaded is not None:
        data["upload-time"] = uploaded
    return {**data, **more}


TOOL = [
    entry("tool-1.0-py3-none-any.whl", at(1)),
    entry("tool-1.0.tar.gz", at(1)),
    entry("tool-2.0-py3-none-any.whl", at(10)),
    entry("tool-2.0.tar.gz", at(10)),
]


def choose(requirement: str, files: list[dict[str, Any]], before: datetime | None,
           **kwargs: Any) -> Any:
    return dates.choose_release(Requirement(requirement), files, before=before,
                             supported=kwargs.get("supported", PY3),
                             python_version=kwargs.get("python_version", PYTHON))


# -- choosing the release of a date ---------------------------------------------------------------


def test_the_newest_release_uploaded_before_the_date() -> None:
    chosen = choose("tool", TOOL, moment(5))
    assert chosen.pin == "tool==1.0"
    assert chosen.hashes == tuple(sorted(f["hashes"]["sha256"] for f in TOOL[:2]))
    assert chosen.line == ("tool==1.0 " + " ".join(f"--hash=sha256:{h}" for h in chosen.hashes))
    assert choose("tool", TOOL, None).pin == "tool==2.0"
    assert choose("tool", TOOL, moment(11)).pin == "tool==2.0"


def test_nothing_before_the_first_release() -> None:
    assert choose("tool", TOOL, moment(1)) is None  # uploaded at that very moment: not before


def test_a_release_counts_only_when_all_its_files_came_before() -> None:
    late_sdist = [*TOOL, entry("tool-1.5-py3-none-any.whl", at(2)), entry("tool-1.5.tar.gz", at(8))]
    assert choose("tool", late_sdist, moment(5)).pin == "tool==1.0"
    assert choose("tool", late_sdist, moment(9)).pin == "tool==1.5"


def test_a_file_without_upload_time_does_not_count_as_before() -> None:
    untimed = [*TOOL, entry("tool-1.5-py3-none-any.whl", None)]
    assert choose("tool", untimed, moment(5)).pin == "tool==1.0"
    assert choose("tool", untimed, None).pin == "tool==2.0"
    assert choose("tool", [entry("tool-1.0.tar.gz", None)], moment(5)) is None


def test_the_specifier_and_prereleases() -> None:
    files = [*TOOL, entry("tool-1.8rc1-py3-none-any.whl", at(3))]
    assert choose("tool<1.0", files, moment(5)) is None
    assert choose("tool>=1,<2", files, None).pin == "tool==1.0"
    assert choose("tool>=1.8rc1", files, moment(5)).pin == "tool==1.8rc1"


def test_yanked_files_and_files_without_sha256_are_left_out() -> None:
    files = [*TOOL, entry("tool-1.5-py3-none-any.whl", at(2), yanked="broken"),
             {"filename": "tool-1.6-py3-none-any.whl", "upload-time": at(3), "hashes": {}}]
    assert choose("tool", files, moment(5)).pin == "tool==1.0"


def test_only_releases_with_a_file_for_this_interpreter() -> None:
    files = [*TOOL,
             entry("tool-1.5-cp312-cp312-manylinux_2_17_x86_64.whl", at(2)),
             entry("tool-1.6-py3-none-any.whl", at(2), **{"requires-python": ">=3.11"}),
             entry("tool-1.7-cp310-cp310-manylinux_2_17_x86_64.whl", at(2)),
             entry("tool-1.7-cp312-cp312-manylinux_2_17_x86_64.whl", at(2))]
    chosen = choose("tool", files, moment(5))
    # 1.7 has a wheel for cp310; pip picks among all of its files, so all their hashes are given.
    assert chosen.pin == "tool==1.7"
    assert len(chosen.hashes) == 2
    assert choose("tool", files[:6], moment(5)).pin == "tool==1.0"
    assert choose("tool", files[:6], moment(5), python_version="3.12.1").pin == "tool==1.6"


def test_names_are_canonical_and_other_projects_files_ignored() -> None:
    files = [entry("Wferry_Tool-1.0-py3-none-any.whl", at(1)),
             entry("wferry_tool_extra-3.0-py3-none-any.whl", at(1)),
             entry("not a dist file", at(1))]
    chosen = choose("WFerry.Tool", files, moment(5))
    assert chosen.pin == "wferry-tool==1.0"
    assert len(chosen.hashes) == 1


@pytest.mark.parametrize(("text", "expected"), [
    ("2023-11-14T22:13:20.123456Z", datetime(2023, 11, 14, 22, 13, 20, 123456, timezone.utc)),
    ("2023-11-14T22:13:20Z", datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)),
    ("2023-11-14T22:13:20.5Z", datetime(2023, 11, 14, 22, 13, 20, 500000, timezone.utc)),
    ("2023-11-14T22:13:20.123456789Z", datetime(2023, 11, 14, 22, 13, 20, 123456, timezone.utc)),
    ("2023-11-14T23:13:20+01:00", datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)),
    ("2023-11-14T22:13:20", datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)),
    ("yesterday", None),
    ("2023-13-45T99:00:00Z", None),
    (None, None),
    (1700000000, None),
])
def test_upload_times(text: object, expected: datetime | None) -> None:
    assert dates.parse_upload_time(text) == expected


# -- the plan: which tools, or why none -----------------------------------------------------------


def listings(pages: Mapping[str, list[dict[str, Any]] | None]) -> Any:
    return lambda project: pages.get(project)


OLD = [entry("old-1.0.tar.gz", at(5))]
TOOLS = {
    "old": OLD,
    "tool": TOOL,
    "setuptools": [entry("setuptools-60.0.0-py3-none-any.whl", at(1)),
                   entry("setuptools-80.0.0-py3-none-any.whl", at(20))],
    "wheel": [entry("wheel-0.37.0-py2.py3-none-any.whl", at(1)),
              entry("wheel-0.48.0-py3-none-any.whl", at(20))],
}


def plan(requires: list[str], pages: Mapping[str, list[dict[str, Any]] | None] = TOOLS,
         sdist: str = "old-1.0.tar.gz") -> Any:
    return dates.dated_tools("old", sdist, requires, listings(pages), supported=PY3,
                          python_version=PYTHON)


def test_the_build_tools_of_its_date() -> None:
    planned = plan(["setuptools>=40", "tool", 'other; python_version < "3"'])
    assert planned.date == "2023-11-05"
    # wheel comes with setuptools: setuptools before 70.1 builds wheels with wheel's bdist_wheel.
    assert planned.pins == ["setuptools==60.0.0", "tool==1.0", "wheel==0.37.0"]


def test_the_build_tools_are_no_older_than_the_target_python() -> None:
    # setuptools of 2018 imports collections.MutableMapping, gone in Python 3.10: tools released
    # before the target Python are not taken for it, those of its first release day are.
    pages = {**TOOLS, "setuptools": [
        entry("setuptools-60.0.0-py3-none-any.whl", at(1)),
        entry("setuptools-70.0.0-py3-none-any.whl", "2025-06-01T12:00:00Z"),
        entry("setuptools-80.0.0-py3-none-any.whl", "2026-01-01T12:00:00Z")]}
    same_age = dates.dated_tools("old", "old-1.0.tar.gz", ["setuptools"], listings(pages),
                              supported=PY3, python_version=PYTHON)
    assert same_age.pins == ["setuptools==60.0.0", "wheel==0.37.0"]
    assert same_age.floor == ""
    assert same_age.when == "2023-11-05"
    newer = dates.dated_tools("old", "old-1.0.tar.gz", ["setuptools"], listings(pages),
                           supported=PY3, python_version="3.14.0")
    assert newer.pins == ["setuptools==70.0.0", "wheel==0.48.0"]
    assert newer.date == "2023-11-05"
    assert newer.when == "2023-11-05, tools no older than Python 3.14's 2025-10-07"


def test_what_stands_in_for_a_locked_major_is_its_newest_below_it() -> None:
    # numpy<2 after the locked numpy 2 failed: the newest 1.x with a wheel here, not the one of
    # the sdist's day (an old numpy's build helpers break with today's compilers).
    pages = {**TOOLS, "helper": [entry("helper-1.0-py3-none-any.whl", at(1)),
                                 entry("helper-1.9-py3-none-any.whl", at(15)),
                                 entry("helper-2.0-py3-none-any.whl", at(16))]}
    planned = dates.dated_tools("old", "old-1.0.tar.gz", ["setuptools", "helper<2"],
                             listings(pages), supported=PY3, python_version=PYTHON,
                             undated=["helper"])
    assert planned.pins == ["helper==1.9", "setuptools==60.0.0", "wheel==0.37.0"]


def test_no_retry_without_json_or_upload_times() -> None:
    assert "no JSON simple API" in plan(["tool"], {**TOOLS, "old": None})
    untimed = {**TOOLS, "old": [entry("old-1.0.tar.gz", None)]}
    assert "no upload time" in plan(["tool"], untimed)
    assert "no upload time" in plan(["tool"], TOOLS, sdist="old-1.0.zip")  # not on the index


def test_no_retry_when_nothing_would_change() -> None:
    # tool 1.0 is today's newest below 2: the build just failed with exactly these tools. The
    # wheel added beside setuptools does not count.
    assert "same newest releases" in plan(["tool<2"])
    assert "same newest releases" in plan(["setuptools<70", "tool<2"])


def test_a_requirement_released_only_after_it_is_taken_at_its_first_release() -> None:
    # Capping only what it must (issue 17): nothing of its day to cap `newer` at, so its first
    # release after; the others still get their releases of its day.
    planned = plan(["tool", "newer"], {**TOOLS, "newer": [entry("newer-1.0.tar.gz", at(9))]})
    assert planned.pins == ["newer==1.0", "tool==1.0"]
    assert "no release of absent fits" in plan(["absent"])


def test_no_retry_for_direct_references_or_bad_requirements() -> None:
    assert "direct reference" in plan(["tool @ https://example.invalid/tool-1.0.tar.gz"])
    assert "not valid" in plan(["tool ==== 1"])


def test_of_its_day_from_a_wheel_else_the_first_wheel_after_it() -> None:
    # An old numpy has no wheel for today's Python, and its sdist does not build today: the
    # first release with a wheel here is taken instead (a pure wheel counts).
    numpy = [entry("numpy-1.19.1.tar.gz", at(2)),
             entry("numpy-1.21.0-cp310-cp310-manylinux_2_17_x86_64.whl", at(8)),
             entry("numpy-1.26.0-cp310-cp310-manylinux_2_17_x86_64.whl", at(15))]
    planned = plan(["numpy", "tool"], {**TOOLS, "numpy": numpy})
    assert planned.pins == ["numpy==1.21.0", "tool==1.0"]
    pure = [entry("cython-0.29.0-py2.py3-none-any.whl", at(3)),
            entry("cython-3.0.0-py2.py3-none-any.whl", at(12))]
    assert plan(["cython", "tool"], {**TOOLS, "cython": pure}).pins == [
        "cython==0.29.0", "tool==1.0"]


def test_pips_floor_for_a_legacy_setup_py_is_not_the_sdists() -> None:
    # setuptools>=40.8.0 is what pip asks for any setup.py: an sdist older than that gets the
    # setuptools of its day.
    old = {**TOOLS, "setuptools": [entry("setuptools-39.0.0-py2.py3-none-any.whl", at(1)),
                                   entry("setuptools-80.0.0-py3-none-any.whl", at(20))]}
    planned = plan(list(dates.LEGACY_BUILD_REQUIRES), old)
    assert planned.pins == ["setuptools==39.0.0", "wheel==0.37.0"]


def test_a_pin_with_nothing_for_this_python_is_explained_from_the_listing() -> None:
    # SimpleITK 2.0.2 (AutoRadiomics' 2021 pins) has wheels up to cp39 and no sdist.
    listing = [entry("SimpleITK-2.0.2-cp38-cp38-manylinux2010_x86_64.whl", at(1)),
               entry("SimpleITK-2.0.2-cp39-cp39-manylinux2010_x86_64.whl", at(1)),
               entry("SimpleITK-2.1.0-cp310-cp310-manylinux_2_17_x86_64.whl", at(9)),
               entry("SimpleITK-2.2.0-cp310-cp310-manylinux_2_17_x86_64.whl", at(12))]
    said = dates.nothing_here("SimpleITK==2.0.2", listing, supported=PY3,
                              python_version=PYTHON)
    assert said == ("simpleitk 2.0.2 has no file for this Python (3.10.14): its wheels are for "
                    "cp38, cp39 and it has no sdist; the first release with one is 2.1.0")
    assert dates.nothing_here("SimpleITK>=2", listing, supported=PY3,
                              python_version=PYTHON) is None
    assert dates.nothing_here("SimpleITK==9.9", listing, supported=PY3,
                              python_version=PYTHON) is None
    newest_only = dates.nothing_here("SimpleITK==2.0.2", listing[:2], supported=PY3,
                                     python_version=PYTHON)
    assert newest_only is not None
    assert newest_only.endswith("; no later release has one either")
