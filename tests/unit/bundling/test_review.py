"""The review's facts (pure): licences allowed or not, the licence table, the dependency edges
on the target, the change since the last bundle; and the files written from them: the page, the
SBOM (against the CycloneDX schema) and pylock.toml (PEP 751)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tests.support import sample_review

from wheelferry.bundling import pylock, reviewpage, sbom
from wheelferry.bundling import review as rv
from wheelferry.bundling.reviewpack import check, render, write
from wheelferry.bundling.wheelmeta import Licence, WheelMeta
from wheelferry.core.errors import LicenceNotAllowed, ReviewError, VulnerableError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 hosts
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]


def dist(licence: str, source: str = "License-Expression") -> rv.Distribution:
    return rv.Distribution(name="x", version="1", licence=licence, licence_source=source,
                           licence_note="", summary="", homepage="", origin="built")


@pytest.mark.parametrize(("licence", "allowed", "expected"), [
    ("MIT", ["mit"], True),
    ("MIT OR Apache-2.0", ["Apache-2.0"], True),
    ("MIT AND Apache-2.0", ["MIT"], False),
    ("MIT AND Apache-2.0", ["MIT", "Apache-2.0"], True),
    ("(MIT OR GPL-3.0) AND BSD-3-Clause", ["MIT", "BSD-3-Clause"], False),
    ("GPL-3.0-only", ["MIT"], False),
])
def test_a_licence_is_allowed_when_the_setting_lists_it(licence: str, allowed: list[str],
                                                        expected: bool) -> None:
    assert rv.licence_allowed(dist(licence), allowed) is expected


def test_an_unknown_licence_is_never_allowed() -> None:
    assert not rv.licence_allowed(dist("unknown", "unknown"), ["unknown"])


def test_the_licence_table_puts_unknown_and_refused_first() -> None:
    dists = [dist("MIT"), replace(dist("unknown", "unknown"), name="y"),
             replace(dist("GPL-3.0-only"), name="z")]
    rows = rv.licence_rows(dists, ["MIT"])
    assert [(r.licence, r.known, r.allowed) for r in rows] == [
        ("unknown", False, False), ("GPL-3.0-only", True, False), ("MIT", True, True)]


def test_the_dependency_edges_are_those_of_the_target() -> None:
    meta = WheelMeta(name=canonicalize_name("a"), version="1", summary="", homepage="",
                     licence=Licence("MIT", "License-Expression"), grafted=(),
                     requires=(Requirement("b"), Requirement('tomli; python_version < "3.11"'),
                               Requirement('pywin32; sys_platform == "win32"'),
                               Requirement('c; extra == "more"'), Requirement("unpinned")))
    environment = rv.target_environment("3.10.16", "x86_64")
    assert rv.requires_on_target(meta, ["b", "tomli", "pywin32", "c"], environment) == (
        "b", "tomli")


def test_changes_name_exactly_what_changed() -> None:
    before = {"a-1.0-py3-none-any.whl": "1" * 64, "b-1.0-py3-none-any.whl": "2" * 64,
              "c-2.0-py3-none-any.whl": "3" * 64, "d-1.0-py3-none-any.whl": "4" * 64,
              "wheelferry-manifest.json": "5" * 64}
    now = [replace(dist("MIT"), name="a", version="1.0", wheel_sha256="1" * 64),
           replace(dist("Apache-2.0"), name="b", version="1.0", wheel_sha256="2" * 64),
           replace(dist("MIT"), name="c", version="1.5", wheel_sha256="6" * 64),
           replace(dist("MIT"), name="d", version="1.0", wheel_sha256="7" * 64),
           replace(dist("MIT"), name="e", version="3.0", wheel_sha256="8" * 64)]
    found = rv.changes(since="f" * 64, since_at="then", before=before,
                       before_licences={"a": "MIT", "b": "MIT"}, now=now)
    assert found.added == ("e 3.0",)
    assert found.removed == ()
    assert found.upgraded == (rv.Upgrade("c", "2.0", "1.5", "downgraded"),)
    assert found.rebuilt == ("d 1.0",)
    assert found.licence_changes == (rv.LicenceChange("b", "MIT", "Apache-2.0"),)
    up = rv.changes(since="f" * 64, since_at="then", before=before, before_licences={},
                    now=[replace(now[2], version="10.0")])
    assert up.upgraded == (rv.Upgrade("c", "2.0", "10.0", "upgraded"),)
    gone = rv.changes(since="f" * 64, since_at="then", before=before, before_licences={},
                      now=now[:1])
    assert gone.removed == ("b 1.0", "c 2.0", "d 1.0")


def test_review_json_is_versioned_and_round_trips_the_licences() -> None:
    review = sample_review()
    data = json.loads(review.to_json())
    assert (data["schema"], data["format"]) == ("wheelferry-review", 1)
    assert rv.licences_of(review.to_json()) == {"attrs": "MIT", "oldlib": "unknown"}
    assert rv.licences_of("not json") == {}


def test_check_refuses_a_licence_not_allowed_naming_it_then_vulnerabilities() -> None:
    review = sample_review(allowed_licenses=("MIT",))
    with pytest.raises(LicenceNotAllowed, match=r"oldlib 1.0 \(unknown\)"):
        check(review, fail_on_vulnerable=True)
    with pytest.raises(VulnerableError, match=r"oldlib 1\.0: PYSEC-2026-1"):
        check(sample_review(), fail_on_vulnerable=True)
    check(sample_review(), fail_on_vulnerable=False)


def test_the_page_is_self_contained_and_escapes_what_it_quotes() -> None:
    page = reviewpage.render(sample_review())
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert "http://" not in page.replace('href="https://attrs.org"', "")
    assert "src=" not in page
    assert "No earlier bundle" in page
    assert "PYSEC-2026-1" in page
    assert "libpq-1234abcd.so.5" in page


def test_the_page_shows_changes_first_and_not_checked_in_plain_sight() -> None:
    changed = rv.Changes(since="f" * 64, since_at="then", added=("e 3.0",),
                         upgraded=(rv.Upgrade("c", "1.0", "2.0"),),
                         licence_changes=(rv.LicenceChange("b", "MIT", "GPL-3.0-only"),))
    review = sample_review(changes=changed)
    review = replace(review, distributions=tuple(
        replace(d, vulnerabilities="not checked", advisories=(),
                not_checked_reason="pypi.org could not be read") if d.origin != "provided"
        else d for d in review.distributions),
        vulnerabilities=rv.Vulnerabilities(status="not checked", source="https://pypi.org",
                                           checked_at="now", found=0))
    page = reviewpage.render(review)
    assert page.index("Changes since the last bundle") < page.index("At a glance")
    assert "upgraded</td><td>c 1.0 &rarr; 2.0" in page
    assert "GPL-3.0-only" in page
    assert "NOT CHECKED" in page
    assert "none known" not in page


def test_the_sbom_is_valid_cyclonedx_with_purls_hashes_and_provenance() -> None:
    text = sbom.render(sample_review())
    assert sbom.validate(text) is None
    document = json.loads(text)
    components = {c["name"]: c for c in document["components"]}
    oldlib = components["oldlib"]
    assert oldlib["purl"].startswith("pkg:pypi/oldlib@1.0")
    assert oldlib["hashes"] == [{"alg": "SHA-256", "content": "b" * 64}]
    properties = {(p["name"], p["value"]) for p in oldlib["properties"]}
    assert ("wheelferry:sdist", "oldlib-1.0.tar.gz") in properties
    assert ("wheelferry:grafted-library", "libpq-1234abcd.so.5") in properties
    assert ("wheelferry:advisory", "PYSEC-2026-1") in properties
    assert components["attrs"]["licenses"] == [{"license": {"id": "MIT"}}]
    assert ("wheelferry:provided-by", "the platform") in {
        (p["name"], p["value"]) for p in components["numpy"]["properties"]}
    graph = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert sorted(graph["pkg:pypi/oldlib@1.0"]) == ["pkg:pypi/attrs@25.1.0",
                                                     "pkg:pypi/numpy@1.26.4"]
    assert sbom.render(sample_review()) == text


def test_an_invalid_sbom_is_reported() -> None:
    document = json.loads(sbom.render(sample_review()))
    document["components"][0]["type"] = "no-such-type"
    assert sbom.validate(json.dumps(document)) is not None


def test_pylock_lists_the_shipped_wheels_beside_it_for_the_target() -> None:
    lock = tomllib.loads(pylock.render(sample_review()))
    assert lock["lock-version"] == "1.0"
    assert lock["environments"] == [
        "sys_platform == 'linux' and platform_machine == 'x86_64' and "
        "python_version == '3.10'"]
    assert lock["requires-python"] == "==3.10.*"
    packages = {p["name"]: p for p in lock["packages"]}
    assert sorted(packages) == ["attrs", "oldlib"]
    assert packages["oldlib"]["wheels"] == [{
        "name": "oldlib-1.0-cp310-cp310-linux_x86_64.whl",
        "path": "./oldlib-1.0-cp310-cp310-linux_x86_64.whl", "size": 2000,
        "hashes": {"sha256": "b" * 64}}]
    assert packages["oldlib"]["dependencies"] == [{"name": "attrs"}]
    assert lock["tool"]["wheelferry"]["provided-by-the-platform"] == ["numpy==1.26.4"]


def test_a_pylock_of_the_users_own_is_never_overwritten(tmp_path: Path) -> None:
    own = tmp_path / "pylock.toml"
    own.write_text('lock-version = "1.0"\ncreated-by = "uv"\n')
    pack = render(sample_review())
    with pytest.raises(ReviewError, match="was not written by wheelferry"):
        write(tmp_path, pack)
    assert own.read_text() == 'lock-version = "1.0"\ncreated-by = "uv"\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pylock.toml"]
    own.unlink()
    write(tmp_path, pack)
    write(tmp_path, pack)  # its own files it replaces
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(pack.files)
