"""The package's shape: each module imports only modules below it in the stack that the layout
table of docs/development.md shows (no upward imports, no circles), and the core never imports
invoke."""

from __future__ import annotations

import ast
from pathlib import Path

import wheelferry

PACKAGE = Path(wheelferry.__file__).parent
# Bottom to top, as in the layout table of docs/development.md ("where a change goes").
STACK = ("errors", "report", "files", "elfcheck", "overrides", "pyprojectfile", "config",
         "provided", "fingerprintscript", "requirements", "project", "containerio", "engine",
         "containers", "target", "systemimage",
         "platform_image", "diagnose", "manifest", "startup", "initscript", "platformdir",
         "unbundle", "reviewsummary", "bundlescript", "wheelhouse", "freshness", "lock", "fetch",
         "wheelcache",
         "build", "standin",
         "verdicts", "proof", "upstream", "verify", "state",
         "wheelmeta", "vulnerabilities", "review", "reviewpage", "sbom", "pylock", "reviewpack",
         "bundle", "status", "caches", "jsonout", "newproject", "runlock",
         "commands", "tasks", "cli")
ADAPTERS = ("tasks", "cli")


def internal_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "wheelferry":
                found.update(alias.name for alias in node.names if alias.name in STACK)
            elif node.module.startswith("wheelferry."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("wheelferry."))
    # The in-container scripts are stdlib only and import nothing of the host's: the host may
    # share their pure parts (what a build log says) from any level.
    found.discard("incontainer")
    return found


def external_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def test_every_module_has_its_place_in_the_stack() -> None:
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(STACK)


def test_modules_import_only_what_lies_below_them() -> None:
    upward = {module: sorted(name for name in internal_imports(module)
                             if STACK.index(name) >= STACK.index(module))
              for module in STACK}
    assert {module: names for module, names in upward.items() if names} == {}


def test_the_core_never_imports_invoke() -> None:
    core = [module for module in STACK if module not in ADAPTERS]
    assert [module for module in core if "invoke" in external_imports(module)] == []
    assert "invoke" in external_imports("tasks")


def test_no_unit_and_integration_test_modules_share_a_name() -> None:
    """Test folders are not packages: two modules of one name cannot both be collected."""
    tests = Path(__file__).resolve().parents[1]
    unit = {p.name for p in (tests / "unit").glob("test_*.py")}
    integration = {p.name for p in (tests / "integration").glob("test_*.py")}
    assert unit & integration == set()


def test_in_container_scripts_import_nothing_of_the_host() -> None:
    """The host shares their pure parts (build_needs: what a build log says); they run in the
    container with the stdlib and packaging only, so they may never import a host module."""
    for script in sorted((PACKAGE / "incontainer").glob("*.py")):
        tree = ast.parse(script.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("wheelferry") \
                    or node.module == "wheelferry.incontainer", (script.name, node.module)
