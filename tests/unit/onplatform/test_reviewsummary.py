"""What `sh BUNDLE --review` shows on the platform, and that it refuses a review that is not
the review of the bundle's wheels."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from tests.support import sample_review

from wheelferry.bundling import review as rv
from wheelferry.onplatform import reviewsummary


def sums_for(review_json: str) -> bytes:
    data = json.loads(review_json)
    return "".join(f"{d['wheel_sha256']}  {d['wheel']}\n" for d in data["distributions"]
                   if d["origin"] != "provided").encode()


def test_carried_files_are_comment_lines_read_back_whole() -> None:
    text = '{\n  "a": "# wheelferry-carried-end"\n}\n'
    header = "#!/bin/sh\nexit 0\n" + reviewsummary.embed("review.json", text.encode()) + "\n"
    assert all(line.startswith("#") for line in header.splitlines()[2:])
    assert reviewsummary.carried(header) == {"review.json": text}


def test_the_review_of_this_payload_matches_and_another_does_not() -> None:
    review = sample_review()
    sums = sums_for(review.to_json())
    digest = hashlib.sha256(sums).hexdigest()
    matching = json.loads(replace(review, sums_sha256=digest).to_json())
    assert reviewsummary.mismatches(matching, sums, digest) == []
    other = json.loads(review.to_json())
    assert any("the review is of the wheelhouse" in p
               for p in reviewsummary.mismatches(other, sums, digest))
    swapped = sums.replace(b"a" * 64, b"0" * 64)
    problems = reviewsummary.mismatches(matching, swapped, hashlib.sha256(swapped).hexdigest())
    assert any("attrs-25.1.0-py3-none-any.whl is not in SHA256SUMS" in p for p in problems)


def test_the_summary_says_what_from_where_licences_and_advisories() -> None:
    lines = reviewsummary.summary(json.loads(sample_review().to_json()))
    text = "\n".join(lines)
    assert "installs 2 distribution(s) into ~/persistent-home/my-tools" in text
    assert "1 more are the platform's own" in text
    assert "attrs 25.1.0  [MIT]  downloaded from the index; no known advisory" in text
    assert "oldlib 1.0  [unknown]  built from oldlib-1.0.tar.gz; ADVISORIES PYSEC-2026-1" in text
    assert "UNKNOWN: 1" in text
    assert "proof: installed offline and imported in ws:1" in text


def test_the_summary_names_the_changes_since_the_last_bundle() -> None:
    changed = rv.Changes(since="f" * 64, since_at="then", added=("e 3.0",),
                         upgraded=(rv.Upgrade("c", "2.0", "1.0", "downgraded"),),
                         licence_changes=(rv.LicenceChange("b", "MIT", "GPL-3.0-only"),))
    text = "\n".join(reviewsummary.summary(json.loads(sample_review(changes=changed).to_json())))
    assert ("since the bundle of then: added e 3.0; downgraded c 2.0 -> 1.0; licence changed "
            "b MIT -> GPL-3.0-only") in text
