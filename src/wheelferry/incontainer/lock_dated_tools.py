"""Runs in the toolchain image, for compile_locks.py: an old sdist whose metadata preparation
failed with today's build tools gets the build tools of its release date (release_dates.py: each
build requirement capped at its newest release uploaded before the sdist), installed
hash-checked where preparation without isolation imports them; and a pin with no file for this
Python is explained from the index's listing.

Stdlib only, besides `packaging` (in the toolchain's venv; pip vendors it otherwise).
"""

from __future__ import annotations

import shutil
import sys
from typing import TYPE_CHECKING, Any

try:
    from packaging import tags, utils, version
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import (  # type: ignore[no-redef]
        tags,
        utils,
        version,
    )

if TYPE_CHECKING:
    from wheelferry.incontainer import (
        declared_requires,
        index_client,
        lock_steps,
        pin_download,
        release_dates,
        resolution_era,
    )
else:
    try:  # in the container, the scripts sit side by side
        import declared_requires
        import index_client
        import lock_steps
        import pin_download
        import release_dates
        import resolution_era
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import (
            declared_requires,
            index_client,
            lock_steps,
            pin_download,
            release_dates,
            resolution_era,
        )

WORK, SDISTS, DATED_TOOLS = lock_steps.WORK, lock_steps.SDISTS, lock_steps.DATED_TOOLS
echo_run, set_pythonpath = lock_steps.echo_run, lock_steps.set_pythonpath


def requested_version(package: str, *texts: str) -> str | None:
    """The version `package` is pinned to (`name==X`) in the first of these requirement texts
    (the .in file, then its previous lock, whose pins pip-compile prefers) that pins it."""
    wanted = utils.canonicalize_name(package)
    for text in texts:
        found = resolution_era.exact_pins([text]).get(wanted)
        if found is not None:
            return found
    return None


def sdist_of(package: str, pinned: str | None, files: list[dict[str, Any]]
             ) -> dict[str, Any] | None:
    """The listing's sdist of `package` at `pinned`, else its newest sdist (the one pip prefers
    when nothing pins it)."""
    sdists = []
    for file in files:
        filename = str(file.get("filename", ""))
        if not filename.endswith(pin_download.SDIST_SUFFIXES) or file.get("yanked"):
            continue
        try:
            _, found = utils.parse_sdist_filename(filename)
        except (utils.InvalidSdistFilename, version.InvalidVersion):
            continue
        sdists.append((found, file))
    if pinned is not None:
        sdists = [(found, file) for found, file in sdists
                  if found == version.Version(pinned)]
    return max(sdists, key=lambda item: item[0])[1] if sdists else None


def install_dated_tools(package: str, item: dict[str, str], env: dict[str, str]) -> list[str] | str:
    """Install the build tools of the release date of `package`'s sdist (the one the .in or the
    previous lock pins, else its newest) where metadata preparation imports them; their pins,
    or why there are none to try."""
    texts = [(WORK / name).read_text(errors="replace")
             for name in (item["in"], item["out"]) if (WORK / name).is_file()]
    try:
        files = index_client.project_files(package, env)
        if files is None:
            return "the index has no JSON simple API (PEP 691) to tell upload times"
        sdist = sdist_of(package, requested_version(package, *texts), files)
        if sdist is None:
            return f"the index lists no sdist of {package} to date"
        path = index_client.download_file(sdist, SDISTS, env)
        planned = release_dates.dated_tools(
            package, path.name, declared_requires.declared_build_requires(path),
            lambda project: index_client.project_files(project, env),
            supported=frozenset(tags.sys_tags()),
            python_version=".".join(str(part) for part in sys.version_info[:3]))
    except Exception as exc:  # the original failure stands; say why there was no retry
        return f"the index could not tell ({type(exc).__name__}: {exc})"
    if isinstance(planned, str):
        return planned
    print(f"==> {package}: preparing its metadata failed with today's build tools; retrying "
          f"with those of its release date ({planned.when}): {', '.join(planned.pins)}",
          flush=True)
    requirement_file = SDISTS / "dated-build-requires.txt"
    requirement_file.write_text("".join(f"{release.line}\n" for release in planned.releases))
    shutil.rmtree(DATED_TOOLS, ignore_errors=True)
    code, _ = echo_run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--require-hashes", "--target", str(DATED_TOOLS), "-r",
                        str(requirement_file)], env)
    set_pythonpath(env)
    if code != 0:
        return "installing them failed"
    return planned.pins


def explain_nothing_here(output: str, env: dict[str, str]) -> None:
    """When pip found no release for a pin, say from the index's listing what that release has
    files for and which later one fits this Python (read by the host's diagnosis)."""
    pins = release_dates.NO_DISTRIBUTION.findall(output)
    if not pins:
        return
    try:
        name = pins[-1].split("==")[0]
        said = release_dates.nothing_here(
            pins[-1], index_client.project_files(name, env),
            supported=frozenset(tags.sys_tags()),
            python_version=".".join(str(part) for part in sys.version_info[:3]))
    except Exception as exc:  # the failure stands as pip said it
        print(f"# wheelferry: the index's listing could not say more ({exc})", flush=True)
        return
    if said:
        print(f"==> {said}", flush=True)
