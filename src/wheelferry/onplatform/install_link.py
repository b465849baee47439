"""How init.sh's program makes an install visible at every start: one `.pth` line in the site
(which puts the install ahead of the platform's own packages, as pip's user install did) and
the console scripts as links; every file replaced whole.

Runs on the platform with startup.py (3.8 or later, the standard library only): initscript.py
pastes this module's source into init.sh's block with startup.py's.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

PTH_CODE = """\
import os, site, sys
here, install = {here!r}, {install!r}
if install not in sys.path and os.path.isdir(install):
    before = list(sys.path)
    site.addsitedir(install)
    added = [p for p in sys.path if p not in before]
    sys.path[:] = [p for p in sys.path if p not in added]
    at = sys.path.index(here) if here in sys.path else len(sys.path)
    sys.path[at:at] = added
"""


def pth_text(site_dir: Path, install: Path) -> str:
    """One `.pth` line: the install (and the .pth files it holds) ahead of the site the line is
    in, so what was shipped comes before the platform's packages, as with pip's user install."""
    code = PTH_CODE.format(here=str(site_dir), install=str(install))
    return f"import sys; exec({code!r}, {{}})\n"


def write_beside(path: Path, data: str) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temporary.write_text(data, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def link(folder: Path, install: Path, record: dict[str, Any], site_dir: Path,
         scripts: Path) -> bool:
    """Make the install visible: the .pth file and the console scripts. True when it changed."""
    name = "wheelferry-" + hashlib.sha256(str(folder).encode()).hexdigest()[:12] + ".pth"
    pth, text = site_dir / name, pth_text(site_dir, install)
    changed = False
    try:
        current = pth.read_text(encoding="utf-8")
    except OSError:
        current = None
    if current != text:
        site_dir.mkdir(parents=True, exist_ok=True)
        write_beside(pth, text)
        changed = True
    installs = install.parent
    wanted = {str(n): install / "bin" / str(n) for n in record.get("scripts", [])}
    if wanted:
        scripts.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        for entry in scripts.iterdir():  # links into another install of this dir go
            if entry.is_symlink() and entry.name not in wanted and \
                    Path(os.readlink(entry)).parent.parent.parent == installs:
                entry.unlink()
                changed = True
    for script, source in sorted(wanted.items()):
        path = scripts / script
        with contextlib.suppress(OSError):
            if path.is_symlink() and Path(os.readlink(path)) == source:
                continue
        temporary = scripts / f".{script}.{uuid.uuid4().hex[:8]}.tmp"
        os.symlink(source, temporary)
        os.replace(temporary, path)
        changed = True
    return changed
