"""`init-script`: the platform's ~/persistent-home/init.sh.

wheelferry owns one marked block of the file and rewrites only that block, so the user's own
lines survive. The block checks the uploaded wheelhouse against SHA256SUMS before installing
anything, installs offline in hash-checking mode (per-user when site-packages is not writable),
and skips the install when this exact wheelhouse is already installed. Every value placed in it
is shell-quoted; it needs bash, coreutils and the target's python3 with pip, nothing else.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from wheelferry import manifest as mf
from wheelferry.errors import InitScriptError
from wheelferry.files import replace_file

BEGIN = "# >>> wheelferry >>>"
END = "# <<< wheelferry <<<"

_TEMPLATE = """\
{begin}
# Written by `wheelferry init-script`; it rewrites this block only. Edit outside the markers.
wheelferry_install() (
    dir={install_dir}
    python="${{WHEELFERRY_PYTHON:-python3}}"
    say() {{ printf 'wheelferry: %s\\n' "$*" >&2; }}
    if [ ! -f "$dir/{sums}" ] || [ ! -f "$dir/{requirements}" ]; then
        say "no wheelhouse at $dir: upload the whole wheelhouse folder there; nothing installed"
        return 1
    fi
    cd "$dir" || return 1
    # Check every file before installing anything: a truncated or altered upload is refused.
    if ! bad=$(sha256sum --quiet --strict -c {sums} 2>&1); then
        say "the wheelhouse at $dir does not match {sums}; nothing installed. Bad files:"
        printf '%s\\n' "$bad" >&2
        return 1
    fi
    # Install beside the interpreter when that is writable (a venv), else per user.
    where=$("$python" -c 'import os, site, sys, sysconfig
p = sysconfig.get_path("purelib")
if sys.prefix != sys.base_prefix or os.access(p, os.W_OK):
    print("system", p)
else:
    print("user", site.getusersitepackages())') || {{ say "cannot run $python"; return 1; }}
    mode=${{where%% *}}
    site_dir=${{where#* }}
    stamp="$site_dir/.wheelferry-$(sha256sum {sums} | cut -c1-16)"
    if [ -e "$stamp" ]; then
        say "already installed from $dir (nothing to do)"
        return 0
    fi
    user_flag=()
    [ "$mode" = user ] && user_flag=(--user)
    if ! "$python" -m pip install --no-index --find-links "$dir" --require-hashes \\
        --only-binary :all: --no-warn-script-location --disable-pip-version-check \\
        ${{user_flag[@]+"${{user_flag[@]}}"}} -r {requirements}; then
        say "installing from $dir failed; see pip's message above"
        return 1
    fi
    mkdir -p "$site_dir" && : >"$stamp"
    say "installed the wheelhouse from $dir"
)
wheelferry_install
{end}
"""

_NEW_FILE_HEAD = """\
#!/usr/bin/env bash
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


def render_block(install_dir: str) -> str:
    return _TEMPLATE.format(begin=BEGIN, end=END, install_dir=quote_install_dir(install_dir),
                            sums=shlex.quote(mf.SUMS), requirements=shlex.quote(mf.REQUIREMENTS))


def merge_block(existing: str | None, block: str) -> str:
    """The file's new text: the user's lines kept, wheelferry's block replaced or appended."""
    if existing is None or not existing.strip():
        return _NEW_FILE_HEAD + block
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
