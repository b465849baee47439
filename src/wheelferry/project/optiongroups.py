"""One small parser per option group: each takes the raw `[tool.wheelferry]` table (keys and
types already checked by project/config.py) and returns its frozen group, or a ConfigError that
names the key and the file."""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelferry.core.errors import ConfigError
from wheelferry.project.options import (
    ARCHITECTURES,
    DEFAULT_INSTALL_DIR,
    DEFAULT_PYTHON,
    NETWORKS,
    RESOLVERS,
    BuildOptions,
    IndexOptions,
    PlatformOptions,
    ProofOptions,
    TargetOptions,
)
from wheelferry.project.overrides import parse_overrides, parse_system_packages

# Where "auto" looks for the CA bundle the host's own pip and requests trust.
CA_BUNDLE_ENV_VARS = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
_USER = re.compile(r"[0-9]+(:[0-9]+)?|[a-z_][a-z0-9_.-]*")
Choice = TypeVar("Choice", bound=str)


@dataclass(frozen=True)
class Source:
    """Where the settings were read: every message names the key and the file."""

    project_dir: Path
    where: str  # "in [tool.wheelferry] of /path/pyproject.toml"

    def bad(self, key: str, problem: str, hint: str = "") -> ConfigError:
        return ConfigError(f"key '{key}' {self.where} {problem}.", hint=hint or None)

    def choice(self, raw: Mapping[str, Any], key: str, choices: tuple[Choice, ...],
               default: Choice, hint: str = "") -> Choice:
        """The setting `key`, one of `choices` (checked here, once)."""
        value = raw.get(key, default)
        for known in choices:
            if value == known:
                return known
        raise self.bad(key, f"must be one of {', '.join(choices)}, not {value!r}", hint)

    def project_file(self, value: str) -> Path:
        """A path the setting names, resolved against the project folder."""
        return (self.project_dir / Path(value).expanduser()).resolve()


def parse_target(raw: Mapping[str, Any], source: Source) -> TargetOptions:
    python = raw.get("python", DEFAULT_PYTHON)
    try:
        parsed = Version(python)
    except InvalidVersion:
        parsed = None
    if parsed is None or len(parsed.release) != 2 or parsed.major != 3 or str(parsed) != python:
        raise source.bad("python",
                         f"must be a Python major.minor version such as \"3.10\", not {python!r}")
    image = raw.get("image", f"python:{python}").strip()
    if not image or any(ch.isspace() for ch in image):
        raise source.bad("image", f"must be an image reference without spaces, not {image!r}")
    arch = source.choice(raw, "arch", tuple(ARCHITECTURES), "x86_64",
                         "Use what `uname -m` prints on the platform.")
    return TargetOptions(python=python, image=image, arch=arch)


def parse_index(raw: Mapping[str, Any], source: Source) -> IndexOptions:
    network = source.choice(raw, "network", NETWORKS, "bridge")
    index_url = raw.get("index-url")
    extra_index_urls = tuple(raw.get("extra-index-urls", []))
    for key, urls in (("index-url", (index_url,) if index_url else ()),
                      ("extra-index-urls", extra_index_urls)):
        for url in urls:
            if not url.startswith(("http://", "https://", "file://")) or any(
                ch.isspace() for ch in url
            ):
                raise source.bad(key, f"must hold http(s):// or file:// URLs, not {url!r}")
    return IndexOptions(index_url=index_url, extra_index_urls=extra_index_urls,
                        ca_bundle=_ca_bundle(raw.get("ca-bundle", "auto"), source),
                        network=network)


def _ca_bundle(value: str, source: Source) -> Path | None:
    if value == "none":
        return None
    if value == "auto":
        # The bundle the host's pip/requests are told to trust, else the host's system bundle
        # (where company proxies add their CA); pip in an image trusts only its own certifi.
        candidates = [os.environ.get(var) for var in CA_BUNDLE_ENV_VARS]
        candidates.append(ssl.get_default_verify_paths().cafile)
        for candidate in candidates:
            if candidate and Path(candidate).is_file():
                return Path(candidate).resolve()
        return None
    path = source.project_file(value)
    if not path.is_file():
        raise source.bad("ca-bundle", f"names {value!r}, which is not a file",
                         "Point it at a PEM bundle, or use \"auto\" or \"none\".")
    return path


def parse_install_dir(raw: Mapping[str, Any], source: Source) -> str:
    install_dir: str = raw.get("install-dir", DEFAULT_INSTALL_DIR)
    if not (install_dir.startswith(("~/", "/", "$HOME/")) or install_dir in ("~", "$HOME")):
        raise source.bad("install-dir", f"must be an absolute path on the platform or start "
                         f"with ~/, not {install_dir!r}")
    if any(ch in install_dir for ch in "\n\r\0"):
        raise source.bad("install-dir", "contains a line break or NUL character")
    return install_dir


def parse_platform(raw: Mapping[str, Any], source: Source, *, install_dir: str) -> PlatformOptions:
    image = raw.get("platform-image")
    if image is not None and (not image.strip() or any(ch.isspace() for ch in image)):
        raise source.bad("platform-image", f"must be an image reference without spaces, not "
                         f"{image!r}")
    user = raw.get("platform-user")
    if user is not None and not _USER.fullmatch(user):
        raise source.bad("platform-user", f"must be \"UID:GID\", \"UID\" or a user name, not "
                         f"{user!r}")
    provided = raw.get("provided", "auto")
    provided_file = None
    if provided not in ("auto", "none"):
        provided_file = source.project_file(provided)
        if not provided_file.is_file():
            raise source.bad("provided", f"names {provided!r}, which is not a file",
                             "Point it at the output of 'pip list --format=freeze' run on the "
                             "platform, or at platform.json ('wheelferry fingerprint' writes the "
                             "script that makes it there), or use \"auto\" (read it from "
                             "platform-image) or \"none\".")
    replace_provided = []
    for name in raw.get("replace-provided", []):
        try:
            Requirement(name)
        except InvalidRequirement:
            raise source.bad("replace-provided",
                             f"lists {name!r}, which is not a package name") from None
        replace_provided.append(canonicalize_name(name))
    return PlatformOptions(install_dir=install_dir, image=image, user=user,
                           provided_file=provided_file,
                           provided_from_image=provided == "auto" and image is not None,
                           replace_provided=tuple(sorted(set(replace_provided))))


def parse_build(raw: Mapping[str, Any], source: Source) -> BuildOptions:
    return BuildOptions(
        resolver=source.choice(raw, "resolver", RESOLVERS, "uv"),
        overrides=parse_overrides(raw.get("overrides", {}), source.where),
        system_packages=parse_system_packages(list(raw.get("system-packages", [])),
                                              "system-packages", source.where))


def parse_skip_imports(raw: Mapping[str, Any], source: Source) -> tuple[str, ...]:
    skip_imports = tuple(raw.get("skip-imports", []))
    for module in skip_imports:
        if not all(part.isidentifier() for part in module.split(".")):
            raise source.bad("skip-imports", f"lists {module!r}, which is not a module name")
    return skip_imports


def parse_proof(raw: Mapping[str, Any], source: Source, *,
                skip_imports: tuple[str, ...]) -> ProofOptions:
    allowed_licenses = tuple(item.strip() for item in raw.get("allowed-licenses", []))
    if any(not item for item in allowed_licenses):
        raise source.bad("allowed-licenses", "lists an empty licence")
    smoke_test, smoke_test_file = _smoke_test(raw.get("smoke-test"), source)
    return ProofOptions(skip_imports=skip_imports, smoke_test=smoke_test,
                        smoke_test_file=smoke_test_file, allowed_licenses=allowed_licenses)


def _smoke_test(value: str | None, source: Source) -> tuple[str, Path | None]:
    """The smoke test's code, and the project file it came from: a one-line value ending in .py
    names a file in the project (which must exist), anything else is the code itself."""
    if value is None:
        return "", None
    if not value.strip():
        raise source.bad("smoke-test", "is empty", "Give Python code, or the path of a .py file "
                         "in the project, or leave the key out.")
    if "\n" in value.strip() or not value.strip().endswith(".py"):
        return value, None
    path = source.project_file(value.strip())
    if source.project_dir not in path.parents:
        raise source.bad("smoke-test", f"names {value!r}, which is outside the project folder",
                         "Keep the smoke test's file inside the project.")
    if not path.is_file():
        raise source.bad("smoke-test", f"names {value!r}, which is not a file",
                         "Create it, fix the path, or write the Python code itself in the "
                         "setting.")
    try:
        return path.read_text(encoding="utf-8"), path
    except (OSError, UnicodeDecodeError) as error:
        raise source.bad("smoke-test", f"names {value!r}, which cannot be read as UTF-8 text "
                         f"({error})") from None
