"""The program of wheelferry's init.sh block: it runs on the platform at every desktop and job
start, in the platform's python3 (3.8 or later, the standard library only, nothing of wheelferry
imported: initscript.py embeds this module's source in the block, and a bundle runs the same).

Install once, link at every start:
- the wheelhouse at the install dir is installed once (offline, hash-checked, every file checked
  against SHA256SUMS first) into a folder beside it in persistent-home, named by the platform's
  interpreter (its ABI) and the hash of SHA256SUMS: built under a temporary name and renamed into
  place with a marker inside, so it is complete or absent. Starts that begin together take turns
  through a lock file (where the file system has locks; the rename alone keeps it whole where it
  has none); a start that was killed leaves a temporary folder the next install removes;
- every start then only links it: one `.pth` file in the user site (or in the interpreter's
  site-packages where that is writable: a venv), which puts the install ahead of the platform's
  own packages (as pip's user install did), and the console scripts as links in `~/.local/bin`
  (or the venv's bin). No pip runs and no wheel is read;
- a new upload switches the link once its install is complete; other installs of the same
  interpreter are removed after the switch; when the new one cannot be installed, the previous
  complete one stays linked;
- the versions of the platform's packages the wheelhouse was locked against are compared with
  what the platform has now (from the installed metadata's folder names, nothing imported); what
  moved is named, with what to do, and the start goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import site
import sys
import sysconfig
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SUMS = "SHA256SUMS"
REQUIREMENTS = "wheelferry-requirements.txt"
MANIFEST = "wheelferry-manifest.json"
INSTALLS = ".wheelferry-installs"  # beside the install dir: ".<name>.wheelferry-installs"
COMPLETE = ".wheelferry-complete"  # inside an install, written before its rename into place
TEMPORARY = ".partial-"
LOCK = ".lock"


def say(message: str) -> None:
    print("wheelferry: " + message, file=sys.stderr, flush=True)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data), encoding="utf-8")
    except OSError:
        pass  # only a record: the next start checks again


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_is_intact(folder: Path, text: str, sums_hash: str) -> bool:
    """Every file SHA256SUMS lists is there with its hash (every byte once per upload, recorded
    beside the install dir by sizes and times, which a new upload changes)."""
    expected = {}
    for line in text.splitlines():
        digest, _, name = line.partition(" ")
        if name.strip():
            expected[name.lstrip(" *")] = digest

    def stat(name: str) -> list[int] | None:
        try:
            info = (folder / name).stat()
        except OSError:
            return None
        return [info.st_size, info.st_mtime_ns]

    seen = {"sums": sums_hash, "files": {name: stat(name) for name in sorted(expected)}}
    record = folder.parent / ("." + folder.name + ".wheelferry-checked")
    if read_json(record) == seen:
        return True
    bad = [name for name, digest in sorted(expected.items())
           if not (folder / name).is_file() or sha256(folder / name) != digest]
    if bad:
        say(f"the wheelhouse at {folder} does not match {SUMS}; nothing installed. Bad files:")
        for name in bad:
            print(name + ": FAILED", file=sys.stderr)
        return False
    write_json(record, seen)
    return True


def link_site() -> tuple[Path, Path] | None:
    """Where the link goes: the interpreter's site-packages when it is a venv or writable, else
    the user site where it is enabled; with the folder console scripts go to."""
    purelib = Path(sysconfig.get_path("purelib"))
    if sys.prefix != sys.base_prefix or os.access(purelib, os.W_OK):
        return purelib, Path(sysconfig.get_path("scripts"))
    if site.ENABLE_USER_SITE:
        return Path(site.getusersitepackages()), Path(site.getuserbase()) / "bin"
    managed = (Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED").is_file()
    say("{} cannot install: its site-packages is not writable and its user site is disabled{};"
        " nothing installed. Point WHEELFERRY_PYTHON at a virtual environment's python, or ask"
        " the platform to allow user installs.".format(
            sys.executable, " (it is externally managed, PEP 668)" if managed else ""))
    return None


def interpreter() -> str:
    """The interpreter an install is for: implementation, version and ABI."""
    abi = sysconfig.get_config_var("SOABI") or "{}-{}{}".format(
        sys.implementation.name, *sys.version_info[:2])
    flags = str(getattr(sys, "abiflags", ""))
    return str(abi) + ("-" + flags if flags and flags not in str(abi) else "")


def installs_of(folder: Path) -> Path:
    return folder.parent / ("." + folder.name + INSTALLS)


def complete(install: Path) -> dict[str, Any] | None:
    record = read_json(install / COMPLETE)
    return record if record.get("interpreter") else None


@contextlib.contextmanager
def turn(installs: Path, *, wait: bool = True) -> Iterator[bool]:
    """One install at a time per install dir: a lock the kernel releases when its holder dies.
    Yields whether it is held (False where the file system has no locks, or, unless `wait`,
    while another start holds it)."""
    if sys.platform == "win32":  # the platform is Linux; the guard is for type checkers
        yield False
        return
    import fcntl

    with (installs / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            say("another start is installing into " + str(installs) + "; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError:
            yield False
            return
        yield True


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def install(folder: Path, text: str, sums_hash: str, target: Path) -> dict[str, Any] | None:
    """The wheelhouse installed into `target`, whole; its record, or None (said why)."""
    installs = target.parent
    installs.mkdir(parents=True, exist_ok=True)
    with turn(installs) as held:
        done = complete(target)
        if done is not None:
            say(f"another start installed the wheelhouse from {folder} meanwhile")
            return done
        if held:  # nobody else is installing: what a killed start left goes
            for path in installs.iterdir():
                if path.name.startswith(TEMPORARY):
                    remove(path)
        if not upload_is_intact(folder, text, sums_hash):
            return None
        partial = installs / (TEMPORARY + target.name + "-" + uuid.uuid4().hex[:8])
        import compileall
        import subprocess

        say(f"installing the wheelhouse from {folder} once, into {target}")
        command = [sys.executable, "-m", "pip", "install", "--no-index", "--find-links",
                   str(folder), "--require-hashes", "--only-binary", ":all:", "--no-deps",
                   "--no-compile", "--no-warn-script-location", "--disable-pip-version-check",
                   "--target", str(partial), "-r", str(folder / REQUIREMENTS)]
        try:
            if subprocess.call(command) != 0:
                say(f"installing from {folder} failed; see pip's message above")
                return None
            # Compiled where it will be, so tracebacks name the installed files.
            compileall.compile_dir(str(partial), ddir=str(target), quiet=2, workers=0)
            manifest = read_json(folder / MANIFEST)
            bin_dir = partial / "bin"
            record = {"interpreter": interpreter(), "sums": sums_hash,
                      "provided": manifest.get("provided") or {},
                      "provided_source": manifest.get("provided_source") or "",
                      "scripts": sorted(p.name for p in bin_dir.iterdir())
                      if bin_dir.is_dir() else []}
            (partial / COMPLETE).write_text(json.dumps(record), encoding="utf-8")
            try:
                os.rename(partial, target)
            except OSError:
                done = complete(target)  # a start that held no lock was first
                if done is None:
                    raise
                return done
        finally:
            if partial.exists():
                remove(partial)
    say(f"installed the wheelhouse from {folder}")
    return record


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


def sweep(installs: Path, keep: Path) -> None:
    """After the switch: the other installs of this interpreter go (never another
    interpreter's), and what a killed start left; only while no start is installing (this
    start does not wait for one: the next start sweeps)."""
    tag = interpreter()
    with turn(installs, wait=False) as held:
        if not held:
            return
        for path in installs.iterdir():
            if path.name.startswith(TEMPORARY):
                remove(path)
            elif path != keep and path.name.startswith(tag + "-") and path.is_dir():
                say(f"removing the previous install {path}")
                remove(path)


def normal(name: str) -> str:
    out: list[str] = []
    dash = False
    for char in name.lower():
        if char in "-_.":
            dash = True
            continue
        if dash and out:
            out.append("-")
        dash = False
        out.append(char)
    return "".join(out)


def same_version(first: str, second: str) -> bool:
    def cut(version: str) -> str:
        version = version.lower().lstrip("v")
        while version.endswith(".0"):
            version = version[:-2]
        return version

    return cut(first) == cut(second)


def platform_versions(skip: Path) -> dict[str, str]:
    """Every distribution the interpreter sees (its path's *.dist-info and *.egg-info folder
    names, nothing opened or imported), but those under `skip` (wheelferry's installs)."""
    found: dict[str, str] = {}
    for entry in sys.path:
        folder = Path(entry or ".")
        if folder == skip or skip in folder.parents:
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for item in names:
            stem, dot, kind = item.rpartition(".")
            if not dot or kind not in ("dist-info", "egg-info"):
                continue
            name, _, version = stem.partition("-")
            version = version.split("-py")[0] if kind == "egg-info" else version
            if name and version:
                found.setdefault(normal(name), version)
    return found


def drift(record: dict[str, Any], installs: Path) -> None:
    """Say which of the platform's packages moved since the wheelhouse was locked."""
    locked = record.get("provided") or {}
    if not locked:
        return
    now = platform_versions(installs)
    moved = []
    for name, version in sorted(locked.items()):
        there = now.get(normal(name))
        if there is None:
            moved.append(f"{name} {version} -> not installed")
        elif not same_version(there, version):
            moved.append(f"{name} {version} -> {there}")
    if moved:
        source = record.get("provided_source") or "the platform's packages"
        say("the platform's packages changed since this wheelhouse was locked against them "
            f"({source}): {', '.join(moved)}. What was shipped was proven with the old "
            "versions and may not work with the new ones: build it again against the "
            "platform as it is now (its new image as platform-image, or a new freeze file or "
            "fingerprint as provided), verify, and upload it. This start goes on.")


def main(folder: Path) -> int:
    try:
        return start(folder)
    except OSError as error:
        say(f"stopped: {error}. Nothing was changed for this start: the packages of the "
            "previous one, if any, stay as they were. Check that persistent-home is writable "
            "for you and has room.")
        return 1


def start(folder: Path) -> int:
    sums_file, requirements = folder / SUMS, folder / REQUIREMENTS
    if not sums_file.is_file() or not requirements.is_file():
        say(f"no wheelhouse at {folder}: upload the whole wheelhouse folder there; nothing "
            "installed")
        return 1
    text = sums_file.read_text(encoding="utf-8")
    sums_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    where = link_site()
    if where is None:
        return 1
    site_dir, scripts = where
    installs = installs_of(folder)
    target = installs / (interpreter() + "-" + sums_hash[:16])
    record = complete(target)
    fresh = record is None
    if record is None:
        record = install(folder, text, sums_hash, target)
    if record is None:
        previous = read_json(installs / "current.json").get("install")
        kept = complete(Path(previous)) if previous else None
        if previous and kept is not None:
            link(folder, Path(previous), kept, site_dir, scripts)
            say(f"the previous install {previous} stays in use")
        return 1
    changed = link(folder, target, record, site_dir, scripts)
    if read_json(installs / "current.json").get("install") != str(target):
        with contextlib.suppress(OSError):
            write_beside(installs / "current.json", json.dumps({"install": str(target)}))
    if any((p != target and p.name.startswith(interpreter() + "-"))
           or p.name.startswith(TEMPORARY) for p in installs.iterdir()):
        sweep(installs, target)
    if not fresh:
        say(f"linked the install of {folder} ({'switched to ' if changed else ''}{target}; "
            "nothing to install)")
    drift(record, installs)
    return 0
