"""compile_shipped.py (runs in the proof's container): every .py file a distribution installed,
compiled in memory for the running Python; errors named by file and line, those in tests,
test, examples or docs folders set aside; nothing written into the install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import wheelferry

SCRIPTS_DIR = Path(wheelferry.__file__).parent / "incontainer"

FILES = {
    "oldpkg/__init__.py": b"VALUE = 1\n",
    "oldpkg/legacy.py": b'print "python 2"\n',
    "oldpkg/tests/test_old.py": b"exec 'x = 1'\n",
    "oldpkg/docs/conf.py": b"x = 1\n",
    "oldpkg/nul.py": b"x = 1\0\n",
}


def installed(site: Path) -> None:
    """oldpkg 1.0 as pip installs it (a dist-info whose RECORD lists its files)."""
    info = site / "OldPkg-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: OldPkg\nVersion: 1.0\n")
    for name, data in FILES.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(data)
    (info / "RECORD").write_text("".join(f"{name},,\n" for name in FILES)
                                 + "OldPkg-1.0.dist-info/RECORD,,\n../../bin/oldpkg,,\n")


def test_syntax_errors_are_named_by_file_and_tests_folders_are_set_aside(tmp_path: Path) -> None:
    site = tmp_path / "site"
    installed(site)
    done = subprocess.run([sys.executable, str(SCRIPTS_DIR / "compile_shipped.py"),
                           '["oldpkg", "absent"]'], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(site)})
    result = json.loads(done.stdout)
    assert set(result) == {"oldpkg"}
    assert result["oldpkg"]["compiled"] == len(FILES)
    errors = {e["file"]: (e["line"], e["aside"], e["message"])
              for e in result["oldpkg"]["errors"]}
    assert set(errors) == {"oldpkg/legacy.py", "oldpkg/tests/test_old.py", "oldpkg/nul.py"}
    assert errors["oldpkg/legacy.py"][:2] == (1, False)
    assert errors["oldpkg/legacy.py"][2].startswith("SyntaxError: Missing parentheses")
    assert errors["oldpkg/tests/test_old.py"][:2] == (1, True)
    assert errors["oldpkg/nul.py"][1] is False
    # Compiled in memory: nothing written into the install.
    assert not list(site.rglob("__pycache__"))
