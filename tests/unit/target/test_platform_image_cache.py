"""The platform image's probe as remembered in the project's state: read back into the platform
without an engine (status uses it), and a record that does not parse read as never probed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support import project_options

from wheelferry.engine.client import ImageInfo
from wheelferry.project.options import Options
from wheelferry.target import platform_image

FACTS = {"version": "3.10.12", "implementation": "cpython", "machine": "x86_64",
         "tags": ["cp310-cp310-linux_x86_64"], "libc": "glibc", "libc_version": "2.35",
         "uid": 1000, "gid": 1000, "home": "/home/chaimeleon", "user_site_enabled": True,
         "externally_managed": False, "executable": "/usr/bin/python3",
         "distributions": [["numpy", "1.26.4"], ["pandas", "2.1.4"]], "libraries": ["libz.so.1"]}
IMAGE = ImageInfo(reference="platform:1", id="sha256:" + "3" * 64, digest="d")


@pytest.fixture
def options(tmp_path: Path) -> Options:
    return project_options(tmp_path, {"base.in": "six\n"}, **{"platform-image": "platform:1"})


def remember(options: Options, facts: object) -> None:
    path = platform_image._cache_path(options, "platform:1")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"image": IMAGE.__dict__, "user": "1000:1000", "facts": facts}))


def test_the_remembered_probe_is_the_platform(options: Options) -> None:
    assert platform_image.cached(options) is None
    remember(options, FACTS)
    found = platform_image.cached(options)
    assert found is not None
    assert (found.image, found.user, found.version, found.home) == (
        IMAGE, "1000:1000", "3.10.12", "/home/chaimeleon")
    assert (found.libc, found.libc_version, found.libraries) == ("glibc", "2.35", ("libz.so.1",))
    assert str(found.provided.version("pandas")) == "2.1.4"


@pytest.mark.parametrize("facts", [
    {**FACTS, "home": None}, {**FACTS, "distributions": [["numpy"]]}, ["3.10.12"],
    {key: value for key, value in FACTS.items() if key != "version"},
])
def test_a_remembered_probe_that_does_not_parse_is_never_probed(options: Options,
                                                                 facts: object) -> None:
    remember(options, facts)
    assert platform_image.cached(options) is None
