"""Through the airlock: `wheelferry review` and `bundle --review` on a wheelhouse built from the
local index (one wheel downloaded, three built from sdists, one release with a fixture
advisory): the page read back from a real headless browser, the SBOM against the CycloneDX
schema, pylock.toml installed offline by uv in the target image, the vulnerability lookup dated
and fail-closed, the change since the last bundle, and the review the bundle carries shown on
the platform."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import docker
import pytest
from tests.support import built_project, copy_project, run_script, wheelferry, write_project

from wheelferry.bundling import sbom
from wheelferry.engine.client import LABEL, PROJECT_LABEL, Engine
from wheelferry.project.config import load_options
from wheelferry.target.image import prepare

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 hosts
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

pytestmark = pytest.mark.engine

FILES = ("review.html", "review.json", "sbom.cdx.json", "pylock.toml")
REQUIREMENTS = "wferryfx-needs-pure\nwferryfx-buildhelper==2.0\n"


@pytest.fixture(scope="module")
def project(local_index: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built and proven once; tests that change it work on a copy."""
    built = built_project(tmp_path_factory.mktemp("review"), local_index, REQUIREMENTS)
    proven = wheelferry("verify", project=built)
    assert proven.returncode == 0, proven.stderr
    return built


def browser_text(page: Path, scratch: Path) -> str:
    """The page printed to PDF by headless Chromium, its text read back with pdftotext."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is missing: scripts/test.sh installs it (Debian's chromium)"
    assert shutil.which("pdftotext"), "pdftotext is missing: scripts/test.sh installs poppler-utils"
    pdf = scratch / "review.pdf"
    printed = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--user-data-dir={scratch / 'chromium-profile'}", f"--print-to-pdf={pdf}",
         page.as_uri()], capture_output=True, text=True, timeout=180, check=False)
    assert pdf.is_file(), printed.stderr
    assert pdf.stat().st_size > 0, printed.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, timeout=60, check=True).stdout
    return " ".join(text.split())


def test_review_writes_the_page_sbom_lock_and_json(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    run = wheelferry("review", "-o", str(out), project=project)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    review = json.loads((out / "review.json").read_text())
    assert (review["schema"], review["format"]) == ("wheelferry-review", 1)
    dists = {d["name"]: d for d in review["distributions"]}
    assert sorted(dists) == ["wferryfx-buildhelper", "wferryfx-needs-pure", "wferryfx-pure",
                             "wferryfx-tomlish"]
    assert dists["wferryfx-buildhelper"]["origin"] == "downloaded"
    built = dists["wferryfx-pure"]
    assert built["origin"] == "built"
    assert built["build"]["sdist"] == "wferryfx-pure-1.0.tar.gz"
    assert built["build"]["image_digest"]
    assert sorted(dists["wferryfx-needs-pure"]["requires"]) == ["wferryfx-pure",
                                                                "wferryfx-tomlish"]
    # The fixture advisory, found in the index's JSON API, dated and sourced.
    assert [a["id"] for a in dists["wferryfx-tomlish"]["advisories"]] == ["PYSEC-2026-9001"]
    assert all(d["vulnerabilities"] == "checked" for d in dists.values())
    assert review["vulnerabilities"]["status"] == "checked"
    assert review["vulnerabilities"]["source"].startswith("http://127.0.0.1:")
    assert review["proof"]["proven"] is True
    # The fixtures declare no licence: each one is flagged unknown.
    assert [row["known"] for row in review["licences"]] == [False]
    assert "PYSEC-2026-9001" in run.stderr + run.stdout

    text = browser_text(out / "review.html", tmp_path)
    for expected in ("Import review", "Changes since the last bundle", "No earlier bundle",
                     "wferryfx-tomlish 1.0", "PYSEC-2026-9001", "CVE-2026-99001", "fixed in 1.1",
                     "unknown", "built here from the sdist wferryfx-pure-1.0.tar.gz",
                     "downloaded from the index", "proven", "~/persistent-home/my-tools"):
        assert expected in text, f"{expected!r} not on the printed page:\n{text}"
    assert "NOT CHECKED" not in text

    document = (out / "sbom.cdx.json").read_text()
    assert sbom.validate(document) is None
    bom = json.loads(document)
    assert bom["specVersion"] == "1.6"
    purls = sorted(c["purl"].split("?")[0] for c in bom["components"])
    assert purls == ["pkg:pypi/wferryfx-buildhelper@2.0", "pkg:pypi/wferryfx-needs-pure@1.0",
                     "pkg:pypi/wferryfx-pure@1.0", "pkg:pypi/wferryfx-tomlish@1.0"]
    graph = {d["ref"]: sorted(d.get("dependsOn", [])) for d in bom["dependencies"]}
    assert graph["pkg:pypi/wferryfx-needs-pure@1.0"] == ["pkg:pypi/wferryfx-pure@1.0",
                                                          "pkg:pypi/wferryfx-tomlish@1.0"]

    lock = tomllib.loads((out / "pylock.toml").read_text())
    assert lock["lock-version"] == "1.0"
    assert {p["name"] for p in lock["packages"]} == set(dists)


def test_pylock_installs_offline_in_the_target_image_with_uv(
        project: Path, tmp_path: Path, engine: Engine,
        docker_client: docker.DockerClient) -> None:
    """A real consumer of PEP 751: uv (the toolchain image's, at the host's version) installs
    from pylock.toml beside the wheels, network off, into a fresh venv of the target Python."""
    out = tmp_path / "out"
    out.mkdir()
    assert wheelferry("review", "-o", str(out), project=project).returncode == 0
    install = tmp_path / "my-tools"
    shutil.copytree(project / "wheelhouse", install)
    shutil.copy2(out / "pylock.toml", install / "pylock.toml")
    target = prepare(engine, load_options(project), lambda line: None)
    script = ("set -e; export UV_CACHE_DIR=/tmp/uv-cache; cd /tools; "
              "/opt/wheelferry/bin/uv venv -q /tmp/venv --python /usr/local/bin/python3; "
              "/opt/wheelferry/bin/uv pip install --offline --python /tmp/venv/bin/python "
              "-r pylock.toml; /tmp/venv/bin/python -c 'import wferryfx_needs_pure, "
              "wferryfx_buildhelper; print(\"imported\", wferryfx_buildhelper.ABI)'; "
              # and a wheel that is not the one the lock names is refused:
              "export UV_CACHE_DIR=/tmp/uv-cache2; cp -r /tools /tmp/altered; cd /tmp/altered; "
              "sed -i '0,/sha256 = \"/s/sha256 = \"./sha256 = \"0/' pylock.toml; "
              "/opt/wheelferry/bin/uv venv -q /tmp/venv2 --python /usr/local/bin/python3; "
              "if /opt/wheelferry/bin/uv pip install --offline --python /tmp/venv2/bin/python "
              "-r pylock.toml; then echo ALTERED-INSTALLED; else echo altered-refused; fi")
    # The toolchain image carries wheelferry's label, and so would this container: labelled with
    # this test's folder too, no other worker's no-container-left check takes it for its own.
    started = docker_client.containers.run(
        target.toolchain, entrypoint=["bash", "-c", script], detach=True, network_mode="none",
        volumes={str(install): {"bind": "/tools", "mode": "ro"}},
        labels={LABEL: "test-pylock-install", PROJECT_LABEL: str(tmp_path.resolve())})
    try:
        status = started.wait(timeout=300)
        output = started.logs().decode("utf-8", "replace")
    finally:
        started.remove(force=True)
    assert status["StatusCode"] == 0, output
    assert "imported 2" in output
    assert "altered-refused" in output
    assert "wferryfx-tomlish==1.0" in output  # uv lists what it installed from the lock


def test_an_unreachable_vulnerability_source_says_not_checked(project: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    run = wheelferry("review", "-o", str(out), "--index-url", "http://127.0.0.1:9/simple/",
                     project=project)
    assert run.returncode == 0, run.stderr
    assert "not checked" in run.stderr
    review = json.loads((out / "review.json").read_text())
    assert review["vulnerabilities"]["status"] == "not checked"
    assert {d["vulnerabilities"] for d in review["distributions"]} == {"not checked"}
    text = browser_text(out / "review.html", tmp_path)
    assert "NOT CHECKED" in text
    assert "none known" not in text


def test_fail_on_vulnerable_names_the_advisory_and_writes_nothing(project: Path,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    run = wheelferry("review", "-o", str(out), "--fail-on-vulnerable", project=project)
    assert run.returncode == 12, run.stderr
    assert "wferryfx-tomlish 1.0: PYSEC-2026-9001" in run.stderr
    assert "Traceback" not in run.stderr
    assert list(out.iterdir()) == []


def test_a_licence_outside_allowed_licenses_is_an_error(project: Path, tmp_path: Path) -> None:
    copy = copy_project(project, tmp_path)
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'allowed-licenses = ["MIT"]\n')
    run = wheelferry("review", project=copy)
    assert run.returncode == 13, run.stderr
    assert "wferryfx-pure 1.0 (unknown)" in run.stderr
    assert "allowed-licenses" in run.stderr
    assert not (copy / "review.html").exists()


def test_a_changed_wheelhouse_shows_exactly_its_changes_and_the_bundle_carries_the_review(
        project: Path, tmp_path: Path, docker_client: docker.DockerClient) -> None:
    copy = copy_project(project, tmp_path)
    first = wheelferry("bundle", "--review", project=copy)
    assert first.returncode == 0, first.stderr
    for name in FILES:
        assert (copy / name).is_file()
    shown = run_script(docker_client, "sh /b/wheelferry-bundle.sh --review",
                       network_mode="none",
                       volumes={str(copy): {"bind": "/b", "mode": "ro"}})
    assert shown[0] == 0, shown[1]
    for expected in ("installs 4 distribution(s) into ~/persistent-home/my-tools",
                     "wferryfx-pure 1.0  [unknown]  built from wferryfx-pure-1.0.tar.gz",
                     "wferryfx-tomlish 1.0  [unknown]", "ADVISORIES PYSEC-2026-9001",
                     "every wheel is the one the review names"):
        assert expected in shown[1], shown[1]
    bom = subprocess.run(["sh", str(copy / "wheelferry-bundle.sh"), "--sbom"],
                         capture_output=True, text=True, check=True).stdout
    assert sbom.validate(bom) is None

    (copy / "requirements" / "base.in").write_text(
        "wferryfx-needs-pure\nwferryfx-buildhelper==1.0\nwferryfx-ns-good\n")
    rebuilt = wheelferry("build", project=copy)
    assert rebuilt.returncode == 0, rebuilt.stderr
    run = wheelferry("review", project=copy)
    assert run.returncode == 0, run.stderr
    changes = json.loads((copy / "review.json").read_text())["changes"]
    assert changes["added"] == ["wferryfx-ns-good 1.0"]
    assert changes["removed"] == []
    assert changes["upgraded"] == [{"name": "wferryfx-buildhelper", "before": "2.0",
                                    "after": "1.0", "kind": "downgraded"}]
    assert changes["rebuilt"] == []
    assert changes["licence_changes"] == []
    text = browser_text(copy / "review.html", tmp_path)
    assert "added wferryfx-ns-good 1.0" in text
    assert "downgraded wferryfx-buildhelper 2.0 → 1.0" in text

    # A review that is not of the payload is refused: the approved review is what runs.
    bundle = copy / "wheelferry-bundle.sh"
    first_sums = json.loads(first_review(copy))["sums_sha256"]
    approved = f'#|  "sums_sha256": "{first_sums}"'.encode()
    data = bundle.read_bytes()
    assert data.count(approved) == 1
    bundle.write_bytes(data.replace(approved, f'#|  "sums_sha256": "{"0" * 64}"'.encode()))
    refused = subprocess.run(["sh", str(bundle), "--review"], capture_output=True, text=True,
                             check=False)
    assert refused.returncode == 1
    assert "is not the review of its wheels" in refused.stderr


def first_review(project: Path) -> str:
    """The review.json the first bundle kept in .wheelferry/bundles/."""
    kept = sorted((project / ".wheelferry" / "bundles").glob("*.review.json"))
    assert len(kept) == 1
    return kept[0].read_text()


def test_review_without_a_wheelhouse_says_what_to_do(tmp_path: Path) -> None:
    bare = write_project(tmp_path / "bare", {"base.in": "six\n"})
    run = wheelferry("review", project=bare)
    assert run.returncode == 11, run.stderr
    assert "there is no wheelhouse at" in run.stderr
    assert "Run 'wheelferry build'" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (bare / "review.html").exists()
