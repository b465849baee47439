"""`init-script`: the platform's ~/persistent-home/init.sh.

wheelferry owns one marked block of the file and rewrites only that block, so the user's own
lines survive. The block is POSIX sh (it works appended to a `#!/bin/sh` script) and hands the
work to the target's python3: it checks the uploaded wheelhouse against SHA256SUMS (every byte
once per new upload, recorded beside the install dir; later starts compare sizes and times only),
installs offline in hash-checking mode (beside the interpreter when that is writable, else in
the user site where it is enabled), uninstalls what it installed earlier and the wheelhouse no
longer holds, and skips the install when this exact wheelhouse is already installed. A failure
is reported and the block returns: a `set -e` script goes on. Every value placed in it is
shell-quoted.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from wheelferry import manifest as mf
from wheelferry.errors import InitScriptError
from wheelferry.files import replace_file

BEGIN = "# >>> wheelferry >>>"
END = "# <<< wheelferry <<<"

# Runs in the platform's python3 (any 3.8+), with the install dir as its argument.
_INSTALLER = """\
import hashlib, importlib.metadata, json, os, site, subprocess, sys, sysconfig
from pathlib import Path

SUMS, REQUIREMENTS = __SUMS__, __REQUIREMENTS__


def say(message):
    print("wheelferry: " + message, file=sys.stderr, flush=True)


def read_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write_json(path, data):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    except OSError:
        pass  # only a record: the next start checks again


def sha256(path):
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_is_intact(folder, text, sums_hash):
    expected = {}
    for line in text.splitlines():
        digest, _, name = line.partition(" ")
        if name.strip():
            expected[name.lstrip(" *")] = digest

    def stat(name):
        try:
            info = (folder / name).stat()
        except OSError:
            return None
        return [info.st_size, info.st_mtime_ns]

    # Every byte once per upload; then sizes and times, which a new upload changes.
    seen = {"sums": sums_hash, "files": {name: stat(name) for name in sorted(expected)}}
    record = folder.parent / ("." + folder.name + ".wheelferry-checked")
    if read_json(record) == seen:
        return True
    bad = [name for name, digest in sorted(expected.items())
           if not (folder / name).is_file() or sha256(folder / name) != digest]
    if bad:
        say("the wheelhouse at %s does not match %s; nothing installed. Bad files:"
            % (folder, SUMS))
        for name in bad:
            print(name + ": FAILED", file=sys.stderr)
        return False
    write_json(record, seen)
    return True


def install_site():
    purelib = sysconfig.get_path("purelib")
    if sys.prefix != sys.base_prefix or os.access(purelib, os.W_OK):
        return False, Path(purelib)
    if site.ENABLE_USER_SITE:
        return True, Path(site.getusersitepackages())
    managed = (Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED").is_file()
    say("%s cannot install: its site-packages is not writable and its user site is disabled%s;"
        " nothing installed. Point WHEELFERRY_PYTHON at a virtual environment's python, or ask"
        " the platform to allow user installs." % (
            sys.executable, " (it is externally managed, PEP 668)" if managed else ""))
    return None, None


def installed_here(name, site_dir):
    try:
        where = Path(importlib.metadata.distribution(name).locate_file(""))
    except importlib.metadata.PackageNotFoundError:
        return False
    return where.resolve() == site_dir.resolve()


def main(folder):
    sums_file, requirements = folder / SUMS, folder / REQUIREMENTS
    if not sums_file.is_file() or not requirements.is_file():
        say("no wheelhouse at %s: upload the whole wheelhouse folder there; nothing installed"
            % folder)
        return 1
    text = sums_file.read_text()
    sums_hash = hashlib.sha256(text.encode()).hexdigest()
    if not upload_is_intact(folder, text, sums_hash):
        return 1
    user, site_dir = install_site()
    if site_dir is None:
        return 1
    record_path = site_dir / ".wheelferry" / (hashlib.sha256(str(folder).encode())
                                              .hexdigest()[:16] + ".json")
    record = read_json(record_path)
    names = [line.split("==")[0] for line in requirements.read_text().split() if "==" in line]
    if record.get("sums") == sums_hash and all(installed_here(n, site_dir) for n in names):
        say("already installed from %s (nothing to do)" % folder)
        return 0
    pip = [sys.executable, "-m", "pip"]
    dropped = sorted(n for n in set(record.get("names", [])) - set(names)
                     if installed_here(n, site_dir))
    if dropped:
        say("uninstalling what the wheelhouse no longer holds: " + " ".join(dropped))
        subprocess.call(pip + ["uninstall", "--yes", *dropped])
    command = pip + ["install", "--no-index", "--find-links", str(folder), "--require-hashes",
                     "--only-binary", ":all:", "--no-warn-script-location",
                     "--disable-pip-version-check", "-r", str(requirements)]
    if subprocess.call(command + (["--user"] if user else [])) != 0:
        say("installing from %s failed; see pip's message above" % folder)
        return 1
    write_json(record_path, {"sums": sums_hash, "names": names})
    say("installed the wheelhouse from %s" % folder)
    return 0


sys.exit(main(Path(sys.argv[1])))
"""

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


def installer_source() -> str:
    """The Python program the block hands to the platform's python3 (the install dir as its
    argument); `bundle` runs the same program to install at once."""
    return _INSTALLER.replace("__SUMS__", repr(mf.SUMS)).replace(
        "__REQUIREMENTS__", repr(mf.REQUIREMENTS))


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
