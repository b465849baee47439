"""`init-script`: the platform's ~/persistent-home/init.sh.

wheelferry owns one marked block of the file and rewrites only that block, so the user's own
lines survive. The block is POSIX sh (it works appended to a `#!/bin/sh` script) and hands the
work to the target's python3, running startup.py's program: the wheelhouse installed once into
persistent-home, linked at every start, drift of the platform's packages named. A failure is
reported and the block returns: a `set -e` script goes on. Every value placed in it is
shell-quoted.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import shlex
from pathlib import Path
from types import ModuleType

from wheelferry.core.errors import InitScriptError
from wheelferry.core.files import replace_file
from wheelferry.onplatform import install_link, platform_drift, startup

BEGIN = "# >>> wheelferry >>>"
END = "# <<< wheelferry <<<"

_TEMPLATE = """\
{begin}
# Written by `wheelferry init-script`; it rewrites this block only. Edit outside the markers.
wheelferry_install() (
    dir={install_dir}
    "${{WHEELFERRY_PYTHON:-python3}}" - "$dir" <<'WHEELFERRY_INSTALLER'
{installer}WHEELFERRY_INSTALLER
)
wheelferry_install || echo "wheelferry: nothing installed (see above); init.sh goes on" >&2
{end}
"""

NEW_FILE_HEAD = """\
#!/bin/sh
# ~/persistent-home/init.sh: the platform runs this at the start of every desktop and job.

"""


def quote_install_dir(install_dir: str) -> str:
    """The install dir as a shell word; a leading ~ or $HOME is expanded on the platform."""
    for prefix in ("~/", "$HOME/"):
        if install_dir.startswith(prefix):
            rest = install_dir[len(prefix):].rstrip("/")
            return '"$HOME"/' + shlex.quote(rest) if rest else '"$HOME"'
    if install_dir in ("~", "$HOME"):
        return '"$HOME"'
    return shlex.quote(install_dir)


def pasted_source(*modules: ModuleType) -> str:
    """Modules of onplatform/ as one program, in order, after the everywhere/ modules they
    import: each one's source without its imports of wheelferry (the names come from the others
    pasted beside it), and of __future__ but in the first."""
    sources = {module: source_of(module) for module in modules}
    trees = {module: ast.parse(source) for module, source in sources.items()}
    shared = [importlib.import_module(name) for name in dict.fromkeys(
        node.module for tree in trees.values() for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module is not None
        and node.module.startswith("wheelferry.everywhere."))]
    for module in shared:
        sources[module] = source_of(module)
        trees[module] = ast.parse(sources[module])
    pasted = [*shared, *modules]
    check_names(pasted, trees)
    texts = []
    for index, module in enumerate(pasted):
        dropped: set[int] = set()
        for node in trees[module].body:
            if isinstance(node, ast.ImportFrom) and node.module is not None and (
                    node.module.startswith("wheelferry")
                    or (node.module == "__future__" and index > 0)):
                dropped.update(range(node.lineno - 1, node.end_lineno or node.lineno))
        lines = sources[module].splitlines()
        texts.append("\n".join(line for number, line in enumerate(lines)
                               if number not in dropped).strip())
    return "\n\n".join(texts)


def source_of(module: ModuleType) -> str:
    return inspect.getsource(module).replace("\r\n", "\n")


def check_names(pasted: list[ModuleType], trees: dict[ModuleType, ast.Module]) -> None:
    """Pasted together, the modules share one namespace: each name of wheelferry they import
    must be defined by one of them, and none defined by two (the later would replace it)."""
    defined: dict[str, str] = {}
    for module in pasted:
        for node in trees[module].body:
            targets: list[ast.expr] = (node.targets if isinstance(node, ast.Assign) else
                                       [node.target] if isinstance(node, ast.AnnAssign) else [])
            names = [name.id for target in targets for name in ast.walk(target)
                     if isinstance(name, ast.Name)]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
            for name in names:
                assert defined.setdefault(name, module.__name__) == module.__name__, (
                    f"{name} is defined in {defined[name]} and in {module.__name__}")
    for module in pasted:
        for node in trees[module].body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wheelferry"):
                for alias in node.names:
                    assert alias.asname is None, (module.__name__, alias.asname)
                    assert alias.name in defined, (
                        f"{module.__name__} imports {alias.name} from {node.module}, which is "
                        "not pasted beside it (import each name from its module)")


def installer_source() -> str:
    """The Python program the block hands to the platform's python3 (the install dir as its
    argument): startup.py's source with the modules it imports, and its call; `bundle` runs
    the same program to install at once."""
    source = pasted_source(startup, install_link, platform_drift)
    return source + "\n\n\nsys.exit(main(Path(sys.argv[1])))\n"


def render_block(install_dir: str) -> str:
    return _TEMPLATE.format(begin=BEGIN, end=END, install_dir=quote_install_dir(install_dir),
                            installer=installer_source())


def merge_block(existing: str | None, block: str) -> str:
    """The file's new text: the user's lines kept, wheelferry's block replaced or appended."""
    if existing is None or not existing.strip():
        return NEW_FILE_HEAD + block
    lines = existing.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if not begins and not ends:
        text = existing if existing.endswith("\n") else existing + "\n"
        return text + "\n" + block
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise InitScriptError(
            f"the existing script has {len(begins)} '{BEGIN}' and {len(ends)} '{END}' "
            "marker lines, not one pair in order.",
            hint="Fix or remove the markers by hand (keeping your own lines), then run again.",
        )
    return "".join(lines[: begins[0]]) + block + "".join(lines[ends[0] + 1:])


def write(path: Path, *, install_dir: str) -> None:
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise InitScriptError(f"cannot read {path} ({exc}).") from exc
    text = merge_block(existing, render_block(install_dir))
    try:
        replace_file(path, text.encode("utf-8"), new_mode=0o755)
    except OSError as exc:
        raise InitScriptError(f"cannot write {path} ({exc}).",
                              hint="Check that its folder exists and is writable.") from exc
