"""The platform's own image (`platform-image`): what the platform's desktops and jobs run.

wheelferry never builds in it (it may lack compilers, pip-tools, root, a writable site-packages);
it only reads it, once per image id, and proves in it. The probe runs the image's own python3 as
the platform's user, with the network off, and tells its Python, C library, user, home, the
distributions it already has (what the platform provides) and its shared libraries (sonames: a
wheel built here carries those it links that the platform lacks).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from wheelferry.core.errors import ImageError
from wheelferry.core.files import replace_file
from wheelferry.engine import specs as containers
from wheelferry.engine.client import Engine, ImageInfo
from wheelferry.project import layout as project
from wheelferry.project.options import Options
from wheelferry.target import probe_report
from wheelferry.target.image import PROBE_MARKER, check_arch
from wheelferry.target.probe_report import PlatformFacts
from wheelferry.target.provided import Provided, from_listing

# Who the platform's containers run as when neither platform-user nor the image's USER says.
DEFAULT_PLATFORM_USER = "1000:1000"


@dataclass(frozen=True)
class Platform:
    image: ImageInfo
    user: str
    version: str
    machine: str
    libc: str
    libc_version: str
    home: str
    user_site_enabled: bool
    externally_managed: bool
    provided: Provided
    # The sonames of the shared libraries its loader finds (None: not known).
    libraries: tuple[str, ...] | None = None


def platform_user(options: Options, image: ImageInfo) -> str:
    """platform-user, else the image's USER, else uid:gid 1000:1000."""
    return options.platform.user or image.user or DEFAULT_PLATFORM_USER


def _cache_path(options: Options, reference: str) -> Path:
    key = hashlib.sha256(f"{reference}\n{options.platform.user or ''}".encode()).hexdigest()
    return project.state_dir(options) / f"platform-{key[:16]}.json"


def _from_facts(image: ImageInfo, user: str, facts: PlatformFacts) -> Platform:
    return Platform(
        image=image, user=user, version=facts.interpreter.version,
        machine=facts.interpreter.machine, libc=facts.libc, libc_version=facts.libc_version,
        home=facts.home, user_site_enabled=facts.user_site_enabled,
        externally_managed=facts.externally_managed,
        provided=from_listing(f"platform image {image.reference}", facts.distributions),
        libraries=facts.libraries)


def cached(options: Options) -> Platform | None:
    """What the last probe of the configured platform image found, without an engine (status
    uses it); None when it was never probed here."""
    if options.platform.image is None:
        return None
    try:
        data = json.loads(_cache_path(options, options.platform.image).read_text("utf-8"))
        image = ImageInfo(**data["image"])
        return _from_facts(image, str(data["user"]), probe_report.platform(data["facts"]))
    except (OSError, ValueError, KeyError, TypeError, ImageError):
        return None


def probe(engine: Engine, options: Options) -> Platform:
    """The platform image, checked to hold the configured Python; probed once per image id."""
    reference = options.platform.image
    assert reference is not None
    image = engine.image(reference)
    if image is None:
        try:
            image = engine.ensure_image(reference, platform=options.target.engine_platform)
        except ImageError as exc:
            raise ImageError(
                f"the platform image {reference!r} is not on this machine and pulling it "
                "failed.",
                hint="Load it ('docker load -i FILE') or pull it where a registry answers, fix "
                "'platform-image' in [tool.wheelferry], or, without the image, describe the "
                "platform with provided = \"platform-freeze.txt\" (the output of 'python3 -m "
                "pip list --format=freeze' run on the platform) and leave platform-image out.",
                details=exc.message) from exc
    check_arch(options, image, setting="the platform image")
    previous = cached(options)
    if previous is not None and previous.image.id == image.id \
            and previous.libraries is not None:  # probed before it told its libraries: again
        return previous
    user = platform_user(options, image)
    result = engine.run(containers.platform_probe_spec(options.target, image_id=image.id,
                                                       user=user))
    found = result.marked(PROBE_MARKER)
    if not result.ok or found is None:
        raise ImageError(
            f"the platform image {reference!r} has no python3 that runs as user {user} "
            f"(probe exit code {result.exit_code}).",
            hint="wheelferry runs the image's own python3 (from its PATH) as the platform's "
            "user; set 'platform-user' if the platform runs as another user.",
            details=result.tail_text(10))
    facts = json.loads(found)
    parsed = probe_report.platform(facts)
    found_platform = _from_facts(image, user, parsed)
    implementation = parsed.interpreter.implementation
    minor = ".".join(found_platform.version.split(".")[:2])
    if minor != options.target.python or implementation != "cpython":
        raise ImageError(
            f"the platform image {reference!r} has {implementation} "
            f"{found_platform.version}, but [tool.wheelferry] python is {options.target.python}.",
            hint=f"Set 'python' to the platform's version ({minor}) and 'image' to a build "
            "image with that CPython, or fix 'platform-image'.")
    path = _cache_path(options, reference)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, json.dumps({"image": image.__dict__, "user": user,
                                   "facts": facts}).encode())
    return found_platform
