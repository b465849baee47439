"""`pylock.toml`: the wheelhouse as a PEP 751 lock file. Each shipped distribution is a package
with its one wheel, by a path relative to the lock file (the lock sits in `install-dir` beside
the wheels, as the wheelhouse does on the platform), its size and sha256; `environments` is the
target's marker (Linux, the Python version, the machine). Distributions the platform provides
are not in it: they are there already (so install from it with `uv pip install -r pylock.toml`,
never a sync that would remove them). Written with tomli-w."""

from __future__ import annotations

from typing import Any

import tomli_w

from wheelferry.bundling.review import Review

LOCK_VERSION = "1.0"
NAME = "pylock.toml"


def environment_marker(review: Review) -> str:
    platform = review.platform
    return (f"sys_platform == 'linux' and platform_machine == '{platform.arch}' and "
            f"python_version == '{platform.python}'")


def document(review: Review) -> dict[str, Any]:
    packages: list[dict[str, Any]] = []
    shipped = {d.name for d in review.shipped}
    for dist in review.shipped:
        package: dict[str, Any] = {"name": dist.name, "version": dist.version}
        needs = [{"name": name} for name in dist.requires if name in shipped]
        if needs:
            package["dependencies"] = needs
        package["wheels"] = [{"name": dist.wheel, "path": f"./{dist.wheel}", "size": dist.size,
                              "hashes": {"sha256": dist.wheel_sha256}}]
        tool: dict[str, Any] = {"origin": dist.origin}
        if dist.build is not None:
            tool["sdist"] = dist.build.sdist
            tool["sdist-sha256"] = dist.build.sdist_sha256
        package["tool"] = {"wheelferry": tool}
        packages.append(package)
    return {
        "lock-version": LOCK_VERSION,
        "environments": [environment_marker(review)],
        "requires-python": f"=={review.platform.python}.*",
        "created-by": "wheelferry",
        "packages": packages,
        "tool": {"wheelferry": {
            "install-dir": review.platform.install_dir,
            "sha256sums-sha256": review.sums_sha256,
            "provided-by-the-platform": [f"{d.name}=={d.version}" for d in review.provided],
        }},
    }


def render(review: Review) -> str:
    head = (f"# PEP 751 lock of the wheelhouse for Python {review.platform.python_version} "
            f"({review.platform.arch} Linux), written by wheelferry.\n"
            f"# Its wheel paths are relative to this file: put it in {review.platform.install_dir}"
            " beside the wheels,\n"
            "# then, in the environment to install into: uv pip install --offline -r pylock.toml\n")
    return head + tomli_w.dumps(document(review))
