"""`sh wheelferry-bundle.sh --review` (and `--sbom`) on the platform: the review a bundle made
with `bundle --review` carries, summarized (what it installs, from where, licences, known
vulnerabilities, the proof), after checking that it is the review of this very payload: its
SHA256SUMS is the one the header names and the payload's first member, and every wheel the review
lists has there the sha256 the review gives. Runs there: Python 3.8 or later, standard library
only (bundlescript.py embeds this module's source in every bundle and calls `main`).

The carried files sit in the bundle's sh header after its last command, each line behind `#|`,
between `# wheelferry-carried NAME` and `# wheelferry-carried-end`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tarfile
from typing import Any

CARRIED = "# wheelferry-carried "
CARRIED_END = "# wheelferry-carried-end"
PREFIX = "#|"
REVIEW, SBOM = "review.json", "sbom.cdx.json"


def embed(name: str, data: bytes) -> str:
    """A carried file as lines of the sh header (comments: the shell never runs them)."""
    text = data.decode("utf-8")
    lines = [f"{PREFIX}{line}" for line in text.split("\n")]
    return "\n".join([f"{CARRIED}{name}", *lines, CARRIED_END])


def carried(header: str) -> dict[str, str]:
    """name -> text of every file carried in a bundle's header."""
    found: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    for line in header.split("\n"):
        if name is None and line.startswith(CARRIED):
            name, lines = line[len(CARRIED):], []
        elif name is not None and line == CARRIED_END:
            found[name] = "\n".join(lines)
            name = None
        elif name is not None and line.startswith(PREFIX):
            lines.append(line[len(PREFIX):])
    return found


def payload_sums(bundle: str, offset: int) -> bytes:
    """The payload's first member, SHA256SUMS."""
    with open(bundle, "rb") as handle:
        handle.seek(offset)
        with tarfile.open(fileobj=handle, mode="r|") as archive:
            for member in archive:
                source = archive.extractfile(member)
                if member.name != "SHA256SUMS" or source is None:
                    break
                return source.read()
    raise ValueError("the payload does not start with SHA256SUMS")


def mismatches(review: Any, sums: bytes, sums_sha256: str) -> list[str]:
    """Why the review is not the review of this payload (empty: it is)."""
    problems = []
    digest = hashlib.sha256(sums).hexdigest()
    if digest != sums_sha256:
        problems.append(f"the payload's SHA256SUMS has sha256 {digest}, the header says "
                        f"{sums_sha256}")
    if review.get("sums_sha256") != sums_sha256:
        problems.append(f"the review is of the wheelhouse whose SHA256SUMS has sha256 "
                        f"{review.get('sums_sha256')}, this bundle's is {sums_sha256}")
    listed = {}
    for line in sums.decode("utf-8", "replace").splitlines():
        if line.strip():
            value, _, name = line.partition("  ")
            listed[name] = value
    for dist in review.get("distributions", []):
        if dist.get("origin") != "provided" and listed.get(dist.get("wheel")) != dist.get(
                "wheel_sha256"):
            problems.append(f"{dist.get('wheel')} is not in SHA256SUMS with the sha256 the "
                            "review gives")
    return problems


def summary(review: Any) -> list[str]:
    """The review in a few lines for a terminal."""
    platform, vulns, proof = review["platform"], review["vulnerabilities"], review["proof"]
    shipped = [d for d in review["distributions"] if d["origin"] != "provided"]
    provided = [d for d in review["distributions"] if d["origin"] == "provided"]
    lines = [f"the review of this bundle ({review['generator']}, {review['generated_at']}):",
             f"installs {len(shipped)} distribution(s) into {platform['install_dir']}, for "
             f"Python {platform['python_version']} on {platform['arch']} Linux"
             + (f"; {len(provided)} more are the platform's own" if provided else "")]
    for dist in shipped:
        if dist["origin"] == "built" and dist.get("build"):
            origin = f"built from {dist['build']['sdist']}"
        else:
            origin = "downloaded from the index"
        advisories = ", ".join(a["id"] for a in dist.get("advisories", []))
        state = (f"ADVISORIES {advisories}" if advisories else
                 "no known advisory" if dist["vulnerabilities"] == "checked" else "NOT CHECKED")
        lines.append(f"  {dist['name']} {dist['version']}  [{dist['licence']}]  {origin}; "
                     f"{state}")
    lines.append("licences: " + "; ".join(
        ("UNKNOWN" if not row["known"] else row["licence"])
        + (" (NOT ALLOWED)" if row["allowed"] is False else "")
        + f": {len(row['distributions'])}" for row in review["licences"]))
    where = f" at {vulns['checked_at']} in {vulns['source']}" if vulns["source"] else ""
    found = (f"{vulns['found']} found" if vulns["status"] == "checked" else
             f"{vulns['found']} found where looked up; NOT CHECKED does not mean none are known")
    lines.append(f"known vulnerabilities: {vulns['status']}{where}: {found}")
    lines.append("proof: " + (f"installed offline and imported in {proof['image']} at "
                              f"{proof['at']}" if proof["proven"] else "NOT proven by verify"))
    changes = review.get("changes")
    if changes:
        parts = [f"added {', '.join(changes['added'])}" if changes["added"] else "",
                 f"removed {', '.join(changes['removed'])}" if changes["removed"] else "",
                 ", ".join(f"{u.get('kind', 'upgraded')} {u['name']} {u['before']} -> "
                           f"{u['after']}" for u in changes["upgraded"]),
                 "licence changed " + ", ".join(f"{c['name']} {c['before']} -> {c['after']}"
                                                for c in changes["licence_changes"])
                 if changes["licence_changes"] else ""]
        lines.append(f"since the bundle of {changes['since_at']}: "
                     + ("; ".join(p for p in parts if p) or "no change"))
    return lines


def main(argv: list[str]) -> int:
    """argv: the bundle, the payload's offset, the sha256 of its SHA256SUMS, and what to show
    (review, sbom)."""
    bundle, offset, sums_sha256, mode = argv
    with open(bundle, "rb") as handle:
        header = handle.read(int(offset)).decode("utf-8", "replace")
    files = carried(header)
    if REVIEW not in files:
        print("wheelferry-bundle: this bundle carries no review (it was made without "
              "'wheelferry bundle --review').", file=sys.stderr)
        return 1
    review = json.loads(files[REVIEW])
    try:
        problems = mismatches(review, payload_sums(bundle, int(offset)), sums_sha256)
    except (OSError, ValueError, tarfile.TarError) as exc:
        problems = [f"its payload cannot be read ({exc})"]
    if problems:
        print("wheelferry-bundle: refused: the review this bundle carries is not the review of "
              "its wheels: " + "; ".join(problems) + ". Nothing was changed.", file=sys.stderr)
        return 1
    if mode == "sbom":
        sys.stdout.write(files.get(SBOM, ""))
        return 0
    print("\n".join(summary(review)))
    print(f"every wheel is the one the review names (sha256 against SHA256SUMS {sums_sha256}); "
          f"the SBOM: sh {os.path.basename(bundle)} --sbom")
    return 0
