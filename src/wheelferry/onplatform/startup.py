"""The program of wheelferry's init.sh block: it runs on the platform at every desktop and job
start, in the platform's python3 (3.8 or later, the standard library only, nothing of wheelferry
imported: initscript.py embeds this module's source in the block, with install_link.py's and
platform_drift.py's after everywhere/checksums.py's, and a bundle runs the same).

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

from wheelferry.everywhere.checksums import sha256_file, sums_entries
from wheelferry.onplatform.install_link import link, write_beside
from wheelferry.onplatform.platform_drift import drift_message

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


def upload_is_intact(folder: Path, text: str, sums_hash: str) -> bool:
    """Every file SHA256SUMS lists is there with its hash (every byte once per upload, recorded
    beside the install dir by sizes and times, which a new upload changes)."""
    expected = {name: digest for digest, name, _ in sums_entries(text) if name}

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
           if not (folder / name).is_file() or sha256_file(folder / name) != digest]
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
    moved = drift_message(record, installs)
    if moved:
        say(moved)
    return 0
