"""The package's shape: every module lives in a folder by stage, each folder says in its
docstring what it holds, a folder imports only the folders below it (a misplaced import fails
here), modules within a folder import each other without circles, the code that runs on the
platform or in containers imports nothing of the host but the stdlib-only pieces all three
runtimes share (everywhere/), and only the command-line edge imports invoke."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import wheelferry

PACKAGE = Path(wheelferry.__file__).parent
# Bottom to top, as in the layout table of docs/development.md ("where a change goes"): a folder
# may import the folders before it, never one after it.
FOLDERS = ("everywhere", "onplatform", "core", "project", "engine", "target", "locking",
           "building", "proving", "bundling", "commands", "edge")
# Stdlib-only scripts run in containers; the host may share their pure parts from any folder.
SHARED = "incontainer"


def modules() -> dict[str, Path]:
    """Every module of the folders, as folder.name."""
    return {f"{path.parent.name}.{path.stem}": path
            for folder in FOLDERS for path in sorted((PACKAGE / folder).glob("*.py"))
            if path.stem != "__init__"}


def internal_imports(path: Path) -> set[str]:
    """The folder.module names a module imports (a folder itself counts as folder.__init__)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "wheelferry" or len(parts) == 1:
                continue
            if len(parts) >= 3:
                found.add(f"{parts[1]}.{parts[2]}")
            else:
                found.update(f"{parts[1]}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "wheelferry" and len(parts) >= 3:
                    found.add(f"{parts[1]}.{parts[2]}")
    return found


def external_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def test_every_module_lives_in_a_folder_that_says_what_it_holds() -> None:
    # tasks.py: the public import path of the Invoke collection for a project's tasks.py.
    assert sorted(path.name for path in PACKAGE.glob("*.py")) == ["__init__.py", "tasks.py"]
    assert internal_imports(PACKAGE / "tasks.py") == {"edge.tasks"}
    folders = {path.name for path in PACKAGE.iterdir()
               if path.is_dir() and path.name != "__pycache__"}
    assert folders == {*FOLDERS, SHARED}
    for folder in FOLDERS:
        doc = ast.get_docstring(ast.parse((PACKAGE / folder / "__init__.py").read_text()))
        assert doc is not None, folder
        assert len(doc.split()) >= 20, folder
    assert not (PACKAGE / SHARED / "__init__.py").exists()  # scripts, run standalone


def test_folders_import_only_the_folders_below_them() -> None:
    upward: dict[str, list[str]] = {}
    for name, path in modules().items():
        folder = name.split(".")[0]
        for target in internal_imports(path):
            other = target.split(".")[0]
            if other == SHARED:
                continue
            if other not in FOLDERS or FOLDERS.index(other) > FOLDERS.index(folder):
                upward.setdefault(name, []).append(target)
    assert upward == {}


def test_the_code_that_runs_on_the_platform_imports_nothing_of_the_host() -> None:
    """A bundle and init.sh carry these modules' source with their wheelferry imports
    stripped: they may import only each other and everywhere/'s pieces (pasted ahead of them),
    each name from its module, as the names stand side by side once pasted."""
    for name, path in modules().items():
        if name.startswith("onplatform."):
            assert {target.split(".")[0] for target in internal_imports(path)} <= {
                "everywhere", "onplatform"}, name
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                        "wheelferry"):
                    assert len((node.module or "").split(".")) == 3, (name, node.module)
                assert not isinstance(node, ast.Import) or not any(
                    alias.name.startswith("wheelferry") for alias in node.names), name


def test_what_runs_everywhere_imports_the_standard_library_only() -> None:
    """everywhere/'s modules are imported by the host, copied beside the in-container scripts
    (where a script imports them by their bare names) and pasted first into the platform's
    programs (whose annotations they make lazy for Python 3.8)."""
    shared = sorted((PACKAGE / "everywhere").glob("*.py"))
    assert [path.stem for path in shared if path.stem != "__init__"]
    for path in shared:
        imported = external_imports(path)
        assert imported <= {*sys.stdlib_module_names, "__future__"}, (path.name, imported)
        if path.stem != "__init__":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            first = tree.body[1 if ast.get_docstring(tree) else 0]
            assert isinstance(first, ast.ImportFrom), path.name
            assert (first.module, [alias.name for alias in first.names]) == (
                "__future__", ["annotations"]), path.name
    scripts = {path.name for path in (PACKAGE / SHARED).glob("*.py")}
    assert {path.name for path in shared} & scripts == set()  # one folder in the containers


def test_modules_within_a_folder_import_each_other_without_circles() -> None:
    graph = {name: {target for target in internal_imports(path)
                    if target.split(".")[0] == name.split(".")[0] and target in modules()}
             for name, path in modules().items()}
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, " -> ".join((*trail, name))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, (*trail, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())


def test_only_the_edge_imports_invoke() -> None:
    importing = sorted(name for name, path in modules().items()
                       if "invoke" in external_imports(path))
    assert importing, "the edge's tasks import invoke"
    assert all(name.startswith("edge.") for name in importing), importing


def test_no_unit_and_integration_test_modules_share_a_name() -> None:
    """Test folders are not packages: two modules of one name cannot both be collected."""
    tests = Path(__file__).resolve().parents[1]
    unit = [p.name for p in (tests / "unit").rglob("test_*.py")]
    integration = {p.name for p in (tests / "integration").glob("test_*.py")}
    assert set(unit) & integration == set()
    assert len(unit) == len(set(unit))


def test_unit_tests_mirror_the_folders() -> None:
    """tests/unit/FOLDER/ holds the unit tests of src/wheelferry/FOLDER/; only the tests of the
    package as a whole (this one) and of the benchmarks' runner sit above them."""
    unit = Path(__file__).resolve().parent
    assert {path.name for path in unit.iterdir() if path.is_dir()
            and path.name != "__pycache__"} <= {*FOLDERS, SHARED}
    assert sorted(path.name for path in unit.glob("test_*.py")) == [
        "test_corpus_runner.py", "test_package_layout.py"]


def test_in_container_scripts_import_nothing_of_the_host() -> None:
    """The host shares their pure parts (build_needs: what a build log says); they run in the
    container with the stdlib and packaging only, so they may never import a host module, only
    each other and everywhere/'s pieces, copied beside them."""
    for script in sorted((PACKAGE / SHARED).glob("*.py")):
        tree = ast.parse(script.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("wheelferry") or node.module in {
                    "wheelferry.incontainer", "wheelferry.everywhere"}, (script.name, node.module)
