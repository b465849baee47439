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
does (lock_dated_tools.py: each build requirement capped at its newest release uploaded
before the sdist), installed hash-checked and importable, without isolation. Only its metadata is
prepared here; the build step builds it with those tools again.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wheelferry.incontainer import (
        build_needs,
        lock_as_of,
        lock_dated_tools,
        lock_steps,
        messages,
    )
else:
    try:  # in the container, the scripts sit side by side
        import build_needs
        import lock_as_of
        import lock_dated_tools
        import lock_steps
        import messages
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import (
            build_needs,
            lock_as_of,
            lock_dated_tools,
            lock_steps,
            messages,
        )

OUT = Path("/out")
MAX_DISCOVERIES = 5
WORK, compile_one = lock_steps.WORK, lock_steps.compile_one
install_build_requires = lock_steps.install_build_requires
install_dated_tools = lock_dated_tools.install_dated_tools
explain_nothing_here = lock_dated_tools.explain_nothing_here


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
    # Per input: the day its old pins' dependencies were taken of (resolution_era).
    eras: dict[str, messages.EraReport] = {}
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
        said = lock_as_of.as_of_the_era(item, plan, constraints, env=env,
                                        resolver=resolver, isolated=isolated)
        if said is not None:
            eras[item["in"]] = said
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
                  "dated": dated, "as_of": eras})
    return 0


def copy_out(relative: str) -> None:
    target = OUT / "locks" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(WORK / relative, target)


def write_result(result: messages.LockReport) -> None:
    (OUT / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
