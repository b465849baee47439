"""Runs in the build container after a wheel was built from an sdist: nothing compiled silently
lost. When the same release has wheels on the index for other tags, the compiled modules of one
of them (`.so`/`.pyd` module names, tag suffixes aside) are compared with those of the wheel
built here: those it lacks were left out of the build, with or without a word in its log.

The published wheel is never installed, nor downloaded whole when the index allows: a wheel's
file list is the zip's central directory at its end, fetched with an HTTP Range request (the
whole file when the server ignores Range) and read with `zipfile`. The index is read as pip
would (index_client.py: its indexes, certificates and credentials). A failure to read it only
skips the comparison, with a line in the build log.

Stdlib only, besides `packaging` (as index_client.py).
"""

from __future__ import annotations

import io
import re
import struct
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    from packaging import utils
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import utils  # type: ignore[no-redef]

if TYPE_CHECKING:
    from wheelferry.incontainer import index_client
else:
    try:  # in the container, the scripts sit side by side
        import index_client
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.incontainer import index_client

# The end of a wheel fetched first: its central directory when it lists up to ~500 files.
TAIL_BYTES = 1 << 16
_END = b"PK\x05\x06"  # the end of central directory record's signature
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def module_name(path: str) -> str | None:
    """The dotted module name of a compiled module in a wheel's file list, its tag suffix left
    out ("yaml/_yaml.cpython-310-x86_64-linux-gnu.so" and "yaml/_yaml.cp310-win_amd64.pyd" are
    both "yaml._yaml"); None for anything else (a plain shared library such as
    "pkg.libs/libz-1a2b.so.1", a file of the .dist-info)."""
    parts = path.replace("\\", "/").split("/")
    if re.fullmatch(r"[^/]+\.data", parts[0]) and len(parts) > 2 \
            and parts[1] in ("purelib", "platlib"):
        parts = parts[2:]
    stem, dot, suffix = parts[-1].partition(".")
    if not dot or not (suffix == "so" or suffix.endswith(".so") or suffix == "pyd"
                       or suffix.endswith(".pyd")):
        return None
    names = [*parts[:-1], stem]
    if not all(_MODULE.fullmatch(name) for name in names):
        return None
    return ".".join(names)


def compiled_modules(names: Iterable[str]) -> set[str]:
    """The compiled modules of a wheel's file list."""
    return {module for module in map(module_name, names) if module is not None}


def missing_modules(published: Iterable[str], built: Iterable[str]) -> list[str]:
    """The compiled modules the published wheel's file list has and the built one's lacks."""
    return sorted(compiled_modules(published) - compiled_modules(built))


def _preference(filename: str, built_tags: frozenset[Any]) -> tuple[int, ...]:
    """How close a published wheel is to the one built here (lower first): the same
    interpreter, then Linux, then macOS, then the rest (a Windows-only helper module is
    likelier to be missing here for good reason)."""
    _, _, _, tags = utils.parse_wheel_filename(filename)
    interpreters = {tag.interpreter for tag in built_tags}
    same = any(tag.interpreter in interpreters for tag in tags)
    platforms = " ".join(tag.platform for tag in tags)
    system = 0 if "linux" in platforms else 1 if "macosx" in platforms else 2
    return (system, 0 if same else 1)


def choose_wheel(files: Sequence[Mapping[str, Any]], built: str
                 ) -> Mapping[str, Any] | None:
    """Of a project's listed files, the published wheel of the built wheel's release (another
    file than the built one, not a pure one, not yanked) closest to it; None when there is none."""
    name, version, _, built_tags = utils.parse_wheel_filename(built)
    candidates = []
    for file in files:
        filename = str(file.get("filename", ""))
        if not filename.endswith(".whl") or filename == built or file.get("yanked"):
            continue
        try:
            other, found, _, tags = utils.parse_wheel_filename(filename)
        except (utils.InvalidWheelFilename, ValueError):
            continue
        if other != name or found != version or not file.get("url"):
            continue
        if all(tag.platform == "any" for tag in tags):
            continue  # pure: nothing compiled to compare
        candidates.append(file)
    if not candidates:
        return None
    return min(candidates, key=lambda file: _preference(str(file["filename"]), built_tags))


class _Tail(io.RawIOBase):
    """A file of `size` bytes of which only `data`, from `start` on, is known (the rest reads as
    zeros): enough for zipfile to read the central directory at the end."""

    def __init__(self, data: bytes, start: int, size: int) -> None:
        super().__init__()
        self._data, self._start, self._size, self._at = data, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._size}[whence]
        self._at = max(0, base + offset)
        return self._at

    def tell(self) -> int:
        return self._at

    def readinto(self, buffer: Any) -> int:
        end = min(self._at + len(buffer), self._size)
        if end <= self._at:
            return 0
        chunk = bytearray(end - self._at)
        known_from = max(self._at, self._start)
        if known_from < end:
            piece = self._data[known_from - self._start:end - self._start]
            chunk[known_from - self._at:known_from - self._at + len(piece)] = piece
        buffer[:len(chunk)] = chunk
        self._at = end
        return len(chunk)


def _get(url: str, env: Mapping[str, str], byte_range: str | None) -> tuple[bytes, int, int]:
    """(the bytes, where they start, the file's size) of `url`, or of `byte_range` of it when
    the server honours Range (the whole file otherwise)."""
    request, context = index_client.index_request(url, "*/*", env)
    if byte_range is not None:
        request.add_header("Range", f"bytes={byte_range}")
    with urllib.request.urlopen(request, timeout=index_client.INDEX_TIMEOUT,
                                context=context) as response:
        data = response.read()
        found = re.fullmatch(r"bytes (\d+)-\d+/(\d+)",
                             str(response.headers.get("Content-Range", "")).strip())
        if response.status == 206 and found:
            return data, int(found.group(1)), int(found.group(2))
    return data, 0, len(data)


def file_list(url: str, env: Mapping[str, str]) -> list[str]:
    """The names in a published wheel's zip, from its central directory: its last bytes (a
    second request when the directory starts before them), the whole file when the server
    ignores Range."""
    data, start, size = _get(url, env, f"-{TAIL_BYTES}")
    if start > 0:
        end = data.rfind(_END)
        if end >= 0 and len(data) >= end + 20:
            offset = struct.unpack("<L", data[end + 16:end + 20])[0]
            if offset < start:
                data, start, size = _get(url, env, f"{offset}-")
    with zipfile.ZipFile(_Tail(data, start, size)) as archive:
        return archive.namelist()


def missing_compiled(name: str, built: Path, env: Mapping[str, str], log: Path) -> list[str]:
    """The compiled modules a published wheel of the same release has and the wheel built from
    its sdist (`built`) lacks ([] when none, or when there is nothing to compare with: the
    reason is in the build log)."""
    def note(text: str) -> None:
        with log.open("a") as handle:
            handle.write(f"# wheelferry: {text}\n")

    try:
        files = index_client.project_files(name, env)
        chosen = choose_wheel(files or [], built.name)
        if chosen is None:
            if files is None:
                note("no comparison with the published wheels: the index has no JSON simple "
                     "API (PEP 691) page for it")
            return []
        published = file_list(str(chosen["url"]), env)
    except Exception as exc:  # the comparison only adds a warning: skipped when unreadable
        note(f"no comparison with the published wheels: the index could not be read "
             f"({type(exc).__name__}: {exc})")
        return []
    with zipfile.ZipFile(built) as archive:
        missing = missing_modules(published, archive.namelist())
    note(f"compared its compiled modules with those of the published {chosen['filename']}: "
         + (f"it lacks {', '.join(missing)}" if missing else "none missing"))
    return missing
