"""Runs in the toolchain image: compile the planned .in files with pip-compile, for this
interpreter (the target's), and copy the locks to /out.

The inputs (copied by the host into /out/inputs with the project's layout) are copied to a
scratch tree, so that a later .in that constrains itself with an earlier lock (`-c base.txt`)
sees the lock made in this run.

An sdist whose setup.py imports a module it does not declare (numpy, typically) fails to prepare
its metadata under build isolation. Such a failure is recognised, the module's distribution is
installed for metadata preparation, and the lock is retried without isolation; the result names
what was found, so that the host records it and builds that sdist with it, hash-checked.

An old sdist whose metadata preparation fails with today's build tools (an API its setup.py calls
was removed since) is retried once with the build tools of its release date, as the build step
does (release_dates.dated_tools: each build requirement capped at its newest release uploaded
before the sdist), installed hash-checked and importable, without isolation. Only its metadata is
prepared here; the build step builds it with those tools again.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    from packaging import requirements, tags, utils, version
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import (  # type: ignore[no-redef]
        requirements,
        tags,
        utils,
        version,
    )

if TYPE_CHECKING:
    from wheelferry.incontainer import build_needs, build_wheels, index_client, release_dates
else:
    try:  # in the container, the scripts sit side by side
        import build_needs
        import build_wheels
        import index_client
        import release_dates
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import (
            build_needs,
            build_wheels,
            index_client,
            release_dates,
        )

OUT = Path("/out")
WORK = Path("/tmp/wheelferry-lock")
BUILD_REQUIRES = Path("/tmp/wheelferry-build-requires")
DATED_TOOLS = Path("/tmp/wheelferry-dated-build-requires")
SDISTS = Path("/tmp/wheelferry-lock-sdists")
# pip-compile taking each file's sha256 from the index instead of downloading it.
PIP_COMPILE = [sys.executable, str(Path(__file__).with_name("pip_compile_index_hashes.py"))]
UV = Path(sys.executable).parent / "uv"
MAX_DISCOVERIES = 5


def echo_run(cmd: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run, show the command and its output (the host reads it), and return both."""
    print("$ " + shlex.join(cmd), flush=True)
    lines = []
    with subprocess.Popen(cmd, cwd=WORK, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    return process.returncode, "".join(lines)


def undeclared_build_import(output: str) -> tuple[str, str, str] | None:
    """(sdist, module, distribution) when an sdist's build step failed on a missing module that
    a distribution provides (not one that today's build tools removed: that calls for the build
    tools of its day), and the resolver or pip said which sdist it was."""
    modules = build_needs.missing_modules(output)
    package = build_needs.failing_package(output)
    if not modules or package is None or build_needs.removed_module(modules[-1]):
        return None
    module = modules[-1]
    return package, module.split(".")[0], build_needs.distribution_of(module)


def failed_sdist(output: str) -> str | None:
    """The package whose sdist failed to prepare its metadata or build, when that is why."""
    return build_needs.failing_package(output)


def name_the_failing_sdist(item: dict[str, str], plan: dict[str, object],
                           constraints: list[str], isolated: bool, env: dict[str, str],
                           output: str) -> str:
    """When pip-compile's failure names no package (pip's metadata errors do not, and --quiet
    hides what pip was processing), run it once more verbosely to learn which sdist it was
    processing; a line that says so (read by build_needs.failing_package), or nothing."""
    if build_needs.failing_package(output) is not None or not (
            "metadata" in output.lower() or build_needs.missing_modules(output)):
        return ""
    code, verbose = compile_one(item, plan, constraints, isolated=isolated, env=env,
                                resolver="pip-compile", verbose=True)  # pip names the sdist
    package = build_needs.processing_package(verbose) if code != 0 else None
    if package is None:
        return ""
    line = f"==> {package}: {build_needs.METADATA_FAILED}"
    print(line, flush=True)
    return f"\n{line}\n"


def attempt_title(resolver: str, isolated: bool, build_requires: list[str],
                  dated: dict[str, list[str]]) -> str:
    """What an attempt to lock was, for the host to tell each attempt's failure apart."""
    if isolated:
        return f"{resolver}, in isolation"
    title = f"{resolver} without build isolation"
    if build_requires:
        title += f", with {', '.join(build_requires)} importable"
    if dated:
        title += ", with the build tools of the release date of " + ", ".join(sorted(dated))
    return title


def set_pythonpath(env: dict[str, str]) -> None:
    """What sdists prepared without isolation import: the tools of an old sdist's day first."""
    env["PYTHONPATH"] = os.pathsep.join(
        str(folder) for folder in (DATED_TOOLS, BUILD_REQUIRES) if folder.is_dir())


def install_build_requires(requires: list[str], env: dict[str, str]) -> bool:
    shutil.rmtree(BUILD_REQUIRES, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(BUILD_REQUIRES),
           *requires]
    code, _ = echo_run(cmd, env)
    set_pythonpath(env)
    return code == 0


def requested_version(package: str, *texts: str) -> str | None:
    """The version `package` is pinned to (`name==X`) in the first of these requirement texts
    (the .in file, then its previous lock, whose pins pip-compile prefers) that pins it."""
    wanted = utils.canonicalize_name(package)
    for text in texts:
        for line in text.splitlines():
            # A lock's pin line ends in a continuation; its hashes, and options, start with "-".
            line = line.split("#", 1)[0].strip().rstrip("\\").strip()
            try:
                requirement = requirements.Requirement(line)
            except requirements.InvalidRequirement:
                continue
            exact = [spec.version for spec in requirement.specifier
                     if spec.operator in ("==", "===") and not spec.version.endswith("*")]
            if utils.canonicalize_name(requirement.name) == wanted and len(exact) == 1:
                return exact[0]
    return None


def sdist_of(package: str, pinned: str | None, files: list[dict[str, Any]]
             ) -> dict[str, Any] | None:
    """The listing's sdist of `package` at `pinned`, else its newest sdist (the one pip prefers
    when nothing pins it)."""
    sdists = []
    for file in files:
        filename = str(file.get("filename", ""))
        if not filename.endswith(build_wheels.SDIST_SUFFIXES) or file.get("yanked"):
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
            package, path.name, build_needs.declared_build_requires(path),
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


def main() -> int:
    plan = json.loads((OUT / "plan.json").read_text())
    # The host copied exactly the files resolution reads, in the project's layout.
    shutil.copytree(OUT / "inputs", WORK, dirs_exist_ok=True)
    env = dict(os.environ, CUSTOM_COMPILE_COMMAND="wheelferry lock")
    # What the platform provides, as constraints on the project's locks: pins then agree with
    # the platform. Not on build requirements: they are installed in the build image, never on
    # the platform (the build lock is constrained by the project's locks instead).
    constraints = ["--constraint", plan["constraints"]] if plan.get("constraints") else []
    build_requires: list[str] = list(plan["build_requires"])
    # Sdists whose setup.py imports undeclared modules get their metadata prepared without
    # isolation, with these importable (pip cannot isolate per package).
    discovered: dict[str, list[str]] = {k: list(v) for k, v in plan.get("discovered", {}).items()}
    if build_requires and not install_build_requires(build_requires, env):
        write_result({"ok": False, "failed": "build-requires", "discovered": discovered})
        return 1
    # Old sdists whose metadata needed the build tools of their release date: name -> pins.
    dated: dict[str, list[str]] = {}
    for item in plan["files"]:
        # uv resolves what it can in isolation; pip-compile takes over what it cannot lock, to
        # explain the failure, or to find what an sdist needs and retry without isolation.
        resolver = str(plan["resolver"])  # the project's setting (config.py holds the default)
        for _ in range(MAX_DISCOVERIES + 1):
            isolated = not (build_requires or dated)
            if resolver == "uv" and not isolated:
                resolver = "pip-compile"
            print(build_needs.ATTEMPT + attempt_title(resolver, isolated, build_requires, dated),
                  flush=True)
            code, output = compile_one(item, plan, constraints, isolated=isolated, env=env,
                                       resolver=resolver)
            if code == 0:
                break
            if resolver == "uv":
                print(f"==> uv could not lock {item['in']}; pip-compile tries it, to find what "
                      "an sdist needs or to explain the failure", flush=True)
                resolver = "pip-compile"
                continue
            output += name_the_failing_sdist(item, plan, constraints, isolated, env, output)
            found = undeclared_build_import(output)
            if found is None:
                package = failed_sdist(output)
                if package is not None and package not in dated:
                    outcome = install_dated_tools(package, item, env)
                    if not isinstance(outcome, str):
                        dated[package] = outcome
                        continue
                    print(f"==> {package}: not retried with the build tools of its release "
                          f"date: {outcome}", flush=True)
            if found is None or found[2] in build_requires:
                explain_nothing_here(output, env)
                write_result({"ok": False, "failed": item["in"], "discovered": discovered,
                              "dated": dated})
                return 1
            package, module, distribution = found
            print(f"==> {package}: its setup.py imports {module!r} without declaring it; "
                  f"retrying with {distribution} importable and no build isolation", flush=True)
            discovered.setdefault(package, []).append(distribution)
            build_requires = sorted({*build_requires, "setuptools", "wheel", distribution})
            if not install_build_requires(build_requires, env):
                write_result({"ok": False, "failed": "build-requires", "discovered": discovered})
                return 1
        else:
            write_result({"ok": False, "failed": item["in"], "discovered": discovered})
            return 1
        copy_out(item["out"])
    build = plan.get("build_lock")
    if build and build_requires:
        # The build requirements (the overrides' and what was found), locked with hashes too,
        # constrained by the project's locks: one the project pins gets exactly that version.
        out = Path(build["out"])
        source = out.with_name(".wheelferry-build.in")
        lines = [*build_requires]
        lines += [f"-c {os.path.relpath(WORK / c, WORK / out.parent)}"
                  for c in build["constraints"]]
        (WORK / source).write_text("".join(f"{line}\n" for line in lines))
        item = {"in": str(source), "out": str(out), "build": True}
        # The build lock: its sdists' metadata runs their setup.py, which pip-compile does.
        code, _ = compile_one(item, plan, constraints, isolated=False, env=env,
                              resolver="pip-compile")
        if code != 0:
            write_result({"ok": False, "failed": item["in"], "discovered": discovered})
            return 1
        copy_out(item["out"])
    write_result({"ok": True, "discovered": discovered, "build_lock": bool(build_requires),
                  "dated": dated})
    return 0


def compile_one(item: dict[str, str], plan: dict[str, object], constraints: list[str], *,
                isolated: bool, env: dict[str, str], resolver: str,
                verbose: bool = False) -> tuple[int, str]:
    upgrades: list[str] = ["--upgrade"] if plan["upgrade"] else []
    for name in plan["upgrade_packages"]:  # type: ignore[attr-defined]
        upgrades += ["--upgrade-package", name]
    if resolver == "uv":
        return echo_run(uv_command(item, constraints, upgrades), uv_environment(env))
    cmd = [
        *PIP_COMPILE, "--verbose" if verbose else "--quiet", "--generate-hashes",
        "--allow-unsafe", "--strip-extras",
        "--no-emit-index-url", "--no-emit-trusted-host", "--no-emit-find-links",
        "--output-file", item["out"], *([] if item.get("build") else constraints),
        item["in"], *upgrades,
    ]
    if not isolated:
        cmd.append("--no-build-isolation")
    return echo_run(cmd, env)


def uv_command(item: dict[str, str], constraints: list[str], upgrades: list[str]) -> list[str]:
    """uv's pip-compile, for this interpreter (the target's: its markers and tags), writing the
    same lock as pip-compile: pins with the hashes of every file of the version, annotations,
    extras stripped, no index options, setuptools and pip kept."""
    return [
        str(UV), "pip", "compile", "--quiet", "--generate-hashes", "--python", sys.executable,
        # pip's rule across several indexes (the best version from any), as the build's pip
        # downloads them; uv's own default stops at the first index that has the package.
        "--index-strategy", "unsafe-best-match",
        "--output-file", item["out"], *([] if item.get("build") else constraints),
        item["in"], *upgrades,
    ]


def uv_environment(env: dict[str, str]) -> dict[str, str]:
    """pip's settings in the container (indexes, certificates, cache) as uv reads them."""
    # No uv.toml of the container's user or folder counts: only wheelferry's settings.
    uv_env = dict(env, UV_CUSTOM_COMPILE_COMMAND="wheelferry lock", UV_NO_PROGRESS="1",
                  UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1")
    for pip_name, uv_name in (("PIP_INDEX_URL", "UV_INDEX_URL"),
                              ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL")):
        if env.get(pip_name):
            uv_env[uv_name] = env[pip_name]
    if env.get("PIP_CACHE_DIR"):
        uv_env["UV_CACHE_DIR"] = os.path.join(env["PIP_CACHE_DIR"], "uv")
    if env.get("PIP_CERT"):
        uv_env["SSL_CERT_FILE"] = env["PIP_CERT"]
    return uv_env


def copy_out(relative: str) -> None:
    target = OUT / "locks" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(WORK / relative, target)


def write_result(result: dict[str, object]) -> None:
    (OUT / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
