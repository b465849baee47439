"""`[tool.wheelferry]` in pyproject.toml -> frozen, validated options.

Every key has a default; unknown keys, wrong types and bad values are ConfigErrors that name the
file and the key. Command-line flags arrive as a mapping of the same keys and win over the file.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelferry.core.errors import ConfigError
from wheelferry.project.overrides import BuildOverride, parse_overrides, parse_system_packages
from wheelferry.project.pyprojectfile import TABLE, find_pyproject, read_table

DEFAULT_PYTHON = "3.10"
DEFAULT_REQUIREMENTS = ("requirements.in",)
DEFAULT_WHEELHOUSE = "wheelhouse"
DEFAULT_INSTALL_DIR = "~/persistent-home/my-tools"
ENGINES = ("docker", "podman")
NETWORKS = ("bridge", "host")
# Who resolves the locks: uv (fast; pip-compile takes over whatever uv cannot lock, to explain
# it or to handle sdists that need help) or pip-compile alone. Same lock format either way.
RESOLVERS = ("uv", "pip-compile")
# The platform's machine, as `uname -m` says it, and the engine's name for it.
ARCHITECTURES = {"x86_64": "linux/amd64", "aarch64": "linux/arm64"}
# Where "auto" looks for the CA bundle the host's own pip and requests trust.
CA_BUNDLE_ENV_VARS = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
_USER = re.compile(r"[0-9]+(:[0-9]+)?|[a-z_][a-z0-9_.-]*")


@dataclass(frozen=True)
class Options:
    """The validated configuration of one project."""

    project_dir: Path
    pyproject: Path
    python: str
    image: str
    requirements: tuple[Path, ...]
    wheelhouse: Path
    install_dir: str
    engine: str = "docker"
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    ca_bundle: Path | None = None
    network: str = "bridge"
    resolver: str = "uv"
    skip_imports: tuple[str, ...] = ()
    # OS packages installed in the build container for every build (overrides add their own).
    system_packages: tuple[str, ...] = ()
    # The platform's machine: every container runs as it (emulated where the host differs).
    arch: str = "x86_64"
    # The platform's own image (read and proven in, never built in), and what it provides.
    platform_image: str | None = None
    platform_user: str | None = None
    # A freeze file of the platform's packages; None with provided_from_image or nothing provided.
    provided_file: Path | None = None
    provided_from_image: bool = False
    replace_provided: tuple[NormalizedName, ...] = ()
    overrides: tuple[BuildOverride, ...] = field(default=())
    # The licences the review accepts (empty: any, each shown); anything else is an error.
    allowed_licenses: tuple[str, ...] = ()
    # Python code the proof runs after init.sh and the imports ("": none), and the project file
    # it was read from (None: the setting holds the code itself).
    smoke_test: str = ""
    smoke_test_file: Path | None = None

    def override_for(self, name: str) -> BuildOverride | None:
        """The configured override for a package (project.override_for adds those that
        locking found)."""
        wanted = canonicalize_name(name)
        return next((o for o in self.overrides if o.name == wanted), None)

    @property
    def engine_platform(self) -> str:
        """The engine's platform for `arch` (linux/amd64, linux/arm64)."""
        return ARCHITECTURES[self.arch]

    @property
    def python_tuple(self) -> tuple[int, int]:
        major, minor = self.python.split(".")
        return int(major), int(minor)



# key -> (expected python types, description used in messages)
_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "python": ((str,), "a string such as \"3.10\""),
    "image": ((str,), "a string such as \"python:3.10\""),
    "requirements": ((list,), "a list of .in file paths"),
    "wheelhouse": ((str,), "a folder path"),
    "install-dir": ((str,), "a path on the platform such as \"~/persistent-home/my-tools\""),
    "engine": ((str,), "\"docker\" or \"podman\""),
    "index-url": ((str,), "a URL"),
    "extra-index-urls": ((list,), "a list of URLs"),
    "ca-bundle": ((str,), "\"auto\", \"none\" or a path to a PEM file"),
    "network": ((str,), "\"bridge\" or \"host\""),
    "resolver": ((str,), "\"uv\" or \"pip-compile\""),
    "arch": ((str,), "\"x86_64\" or \"aarch64\" (as `uname -m` says it on the platform)"),
    "skip-imports": ((list,), "a list of module names"),
    "system-packages": ((list,), "a list of OS package names installed for every build (e.g. "
                        "\"libpq-dev\")"),
    "platform-image": ((str,), "an image reference such as \"myplatform/workstation:1.4\""),
    "platform-user": ((str,), "a user as \"UID:GID\" or a name in the platform image"),
    "provided": ((str,), "\"auto\", \"none\" or the path of a `pip list --format=freeze` file "
                 "or of the platform's fingerprint (platform.json)"),
    "replace-provided": ((list,), "a list of package names"),
    "overrides": ((dict,), "a table of per-package tables"),
    "allowed-licenses": ((list,), "a list of licences (SPDX identifiers or classifier names)"),
    "smoke-test": ((str,), "Python code, or the path of a .py file in the project"),
}

def load_options(project_dir: Path, flags: Mapping[str, Any] | None = None) -> Options:
    """Read, merge (flags win) and validate the configuration of the project at `project_dir`."""
    project_dir = project_dir.resolve()
    pyproject = find_pyproject(project_dir)
    raw = dict(read_table(pyproject))
    for key, value in (flags or {}).items():
        if value is not None:
            raw[key] = value
    return parse_options(raw, project_dir=project_dir, pyproject=pyproject)


def parse_options(raw: Mapping[str, Any], *, project_dir: Path, pyproject: Path) -> Options:
    """Validate a raw table into Options. Pure apart from checking that named files exist."""
    where = f"in [{TABLE}] of {pyproject}"

    def bad(key: str, problem: str, hint: str = "") -> ConfigError:
        return ConfigError(f"key '{key}' {where} {problem}.", hint=hint or None)

    for key, value in raw.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise bad(key, "is not a wheelferry setting",
                      f"Remove it or fix its spelling. Known keys: {known}.")
        types, description = _KEYS[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise bad(key, f"must be {description}, not {value!r}")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise bad(key, f"must be {description}; every item must be a string, got {value!r}")

    python = raw.get("python", DEFAULT_PYTHON)
    try:
        parsed = Version(python)
    except InvalidVersion:
        parsed = None
    if parsed is None or len(parsed.release) != 2 or parsed.major != 3 or str(parsed) != python:
        raise bad("python",
                  f"must be a Python major.minor version such as \"3.10\", not {python!r}")

    image = raw.get("image", f"python:{python}").strip()
    if not image or any(ch.isspace() for ch in image):
        raise bad("image", f"must be an image reference without spaces, not {image!r}")

    requirements = tuple(
        _project_file(project_dir, item, key="requirements", where=where)
        for item in raw.get("requirements", list(DEFAULT_REQUIREMENTS))
    )
    if not requirements:
        raise bad("requirements", "is empty", "List at least one .in file.")
    for path in requirements:
        if path.suffix != ".in":
            raise bad("requirements", f"lists {path.name}, which is not a .in file",
                      "List pip-tools input files (X.in); wheelferry writes the lock X.txt.")
        if not path.is_file():
            raise bad("requirements",
                      f"lists {path.relative_to(project_dir)}, which does not exist",
                      "Create it (one requirement per line) or fix the path.")
    if len(set(requirements)) != len(requirements):
        raise bad("requirements", "lists the same file twice")

    wheelhouse_raw = raw.get("wheelhouse", DEFAULT_WHEELHOUSE)
    if not wheelhouse_raw.strip():
        raise bad("wheelhouse", "is empty")
    wheelhouse = (project_dir / Path(wheelhouse_raw).expanduser()).resolve()
    if wheelhouse == project_dir or wheelhouse in project_dir.parents:
        raise bad("wheelhouse", f"is {wheelhouse}, which holds the project itself",
                  "Use a folder of its own, such as \"wheelhouse\"; wheelferry replaces it whole.")
    if any(wheelhouse == r.parent or wheelhouse in r.parents for r in requirements):
        raise bad("wheelhouse", f"is {wheelhouse}, which holds the requirement files",
                  "Use a folder of its own; wheelferry replaces it whole.")

    install_dir = raw.get("install-dir", DEFAULT_INSTALL_DIR)
    if not (install_dir.startswith(("~/", "/", "$HOME/")) or install_dir in ("~", "$HOME")):
        raise bad("install-dir", f"must be an absolute path on the platform or start with ~/, "
                  f"not {install_dir!r}")
    if any(ch in install_dir for ch in "\n\r\0"):
        raise bad("install-dir", "contains a line break or NUL character")

    engine = raw.get("engine", "docker")
    if engine not in ENGINES:
        raise bad("engine", f"must be one of {', '.join(ENGINES)}, not {engine!r}")
    arch = raw.get("arch", "x86_64")
    if arch not in ARCHITECTURES:
        raise bad("arch", f"must be one of {', '.join(ARCHITECTURES)}, not {arch!r}",
                  "Use what `uname -m` prints on the platform.")
    network = raw.get("network", "bridge")
    if network not in NETWORKS:
        raise bad("network", f"must be one of {', '.join(NETWORKS)}, not {network!r}")
    resolver = raw.get("resolver", "uv")
    if resolver not in RESOLVERS:
        raise bad("resolver", f"must be one of {', '.join(RESOLVERS)}, not {resolver!r}")

    index_url = raw.get("index-url")
    extra_index_urls = tuple(raw.get("extra-index-urls", []))
    for key, urls in (("index-url", (index_url,) if index_url else ()),
                      ("extra-index-urls", extra_index_urls)):
        for url in urls:
            if not url.startswith(("http://", "https://", "file://")) or any(
                ch.isspace() for ch in url
            ):
                raise bad(key, f"must hold http(s):// or file:// URLs, not {url!r}")

    ca_bundle = _ca_bundle(raw.get("ca-bundle", "auto"), project_dir, bad)

    skip_imports = tuple(raw.get("skip-imports", []))
    for module in skip_imports:
        if not all(part.isidentifier() for part in module.split(".")):
            raise bad("skip-imports", f"lists {module!r}, which is not a module name")

    overrides = parse_overrides(raw.get("overrides", {}), where)

    platform_image = raw.get("platform-image")
    if platform_image is not None and (not platform_image.strip()
                                       or any(ch.isspace() for ch in platform_image)):
        raise bad("platform-image", f"must be an image reference without spaces, not "
                  f"{platform_image!r}")
    platform_user = raw.get("platform-user")
    if platform_user is not None and not _USER.fullmatch(platform_user):
        raise bad("platform-user", f"must be \"UID:GID\", \"UID\" or a user name, not "
                  f"{platform_user!r}")
    provided = raw.get("provided", "auto")
    provided_file = None
    if provided not in ("auto", "none"):
        provided_file = (project_dir / Path(provided).expanduser()).resolve()
        if not provided_file.is_file():
            raise bad("provided", f"names {provided!r}, which is not a file",
                      "Point it at the output of 'pip list --format=freeze' run on the "
                      "platform, or at platform.json ('wheelferry fingerprint' writes the "
                      "script that makes it there), or use \"auto\" (read it from "
                      "platform-image) or \"none\".")
    replace_provided = []
    for name in raw.get("replace-provided", []):
        try:
            Requirement(name)
        except InvalidRequirement:
            raise bad("replace-provided", f"lists {name!r}, which is not a package name") from None
        replace_provided.append(canonicalize_name(name))

    allowed_licenses = tuple(item.strip() for item in raw.get("allowed-licenses", []))
    if any(not item for item in allowed_licenses):
        raise bad("allowed-licenses", "lists an empty licence")
    smoke_test, smoke_test_file = _smoke_test(raw.get("smoke-test"), project_dir, bad)

    return Options(
        project_dir=project_dir,
        pyproject=pyproject,
        python=python,
        image=image,
        requirements=requirements,
        wheelhouse=wheelhouse,
        install_dir=install_dir,
        engine=engine,
        index_url=index_url,
        extra_index_urls=extra_index_urls,
        ca_bundle=ca_bundle,
        network=network,
        resolver=resolver,
        arch=arch,
        skip_imports=skip_imports,
        system_packages=parse_system_packages(list(raw.get("system-packages", [])),
                                              "system-packages", where),
        overrides=overrides,
        platform_image=platform_image,
        platform_user=platform_user,
        provided_file=provided_file,
        provided_from_image=provided == "auto" and platform_image is not None,
        replace_provided=tuple(sorted(set(replace_provided))),
        allowed_licenses=allowed_licenses,
        smoke_test=smoke_test,
        smoke_test_file=smoke_test_file,
    )


def _project_file(project_dir: Path, item: str, *, key: str, where: str) -> Path:
    path = (project_dir / item).resolve()
    if project_dir not in path.parents:
        raise ConfigError(
            f"key '{key}' {where} lists {item!r}, which is outside the project folder.",
            hint="Keep requirement files inside the project.",
        )
    return path


def _smoke_test(value: str | None, project_dir: Path, bad: Any) -> tuple[str, Path | None]:
    """The smoke test's code, and the project file it came from: a one-line value ending in .py
    names a file in the project (which must exist), anything else is the code itself."""
    if value is None:
        return "", None
    if not value.strip():
        raise bad("smoke-test", "is empty", "Give Python code, or the path of a .py file in "
                  "the project, or leave the key out.")
    if "\n" in value.strip() or not value.strip().endswith(".py"):
        return value, None
    path = (project_dir / Path(value.strip()).expanduser()).resolve()
    if project_dir not in path.parents:
        raise bad("smoke-test", f"names {value!r}, which is outside the project folder",
                  "Keep the smoke test's file inside the project.")
    if not path.is_file():
        raise bad("smoke-test", f"names {value!r}, which is not a file",
                  "Create it, fix the path, or write the Python code itself in the setting.")
    try:
        return path.read_text(encoding="utf-8"), path
    except (OSError, UnicodeDecodeError) as error:
        raise bad("smoke-test", f"names {value!r}, which cannot be read as UTF-8 text "
                  f"({error})") from None


def _ca_bundle(value: str, project_dir: Path, bad: Any) -> Path | None:
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
    path = (project_dir / Path(value).expanduser()).resolve()
    if not path.is_file():
        raise bad("ca-bundle", f"names {value!r}, which is not a file",
                  "Point it at a PEM bundle, or use \"auto\" or \"none\".")
    return path


def expand_home(path: str, home: str) -> str:
    """A platform path setting (install-dir) as the platform sees it for a user whose HOME is
    `home`: a leading ~ or $HOME expanded, trailing slashes dropped."""
    for prefix in ("~", "$HOME"):
        if path == prefix or path.startswith(prefix + "/"):
            path = home.rstrip("/") + path[len(prefix):]
            break
    return path.rstrip("/") or "/"
