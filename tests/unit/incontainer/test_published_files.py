"""The comparison of a built wheel's compiled modules with a published wheel's (issue 18 item 3):
module names from file lists, the wheel compared with, and a wheel's file list read from the end
of the file over HTTP (Range), or from the whole file when the server ignores Range."""

from __future__ import annotations

import io
import os
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from wheelferry.incontainer import graft_libraries, published_files
from wheelferry.incontainer.published_files import (
    choose_wheel,
    file_list,
    missing_compiled,
    missing_modules,
    module_name,
)


def test_module_names_leave_out_tag_suffixes_and_plain_libraries() -> None:
    assert module_name("yaml/_yaml.cpython-310-x86_64-linux-gnu.so") == "yaml._yaml"
    assert module_name("yaml/_yaml.cp310-win_amd64.pyd") == "yaml._yaml"
    assert module_name("_cffi_backend.cpython-39-darwin.so") == "_cffi_backend"
    assert module_name("pkg/_speed.abi3.so") == "pkg._speed"
    assert module_name("pkg/_speed.so") == "pkg._speed"
    assert module_name("pkg/_speed.pyd") == "pkg._speed"
    assert module_name("pkg-1.0.data/platlib/pkg/_c.cpython-310-x86_64-linux-gnu.so") == "pkg._c"
    # Shared libraries carried by auditwheel or delvewheel, and anything not a module.
    assert module_name("pkg.libs/libz-1a2b3c4d.so.1.2.13") is None
    assert module_name("numpy.libs/libopenblas64_p-r0-15028c96.3.21.so") is None
    assert module_name("pkg/__init__.py") is None
    assert module_name("pkg-1.0.dist-info/RECORD") is None


def test_the_modules_the_published_wheel_has_and_the_built_one_lacks() -> None:
    published = ["yaml/__init__.py", "yaml/_yaml.cpython-39-darwin.so", "_yaml/__init__.py",
                 "yaml/_other.cpython-39-darwin.so"]
    built = ["yaml/__init__.py", "_yaml/__init__.py",
             "yaml/_other.cpython-310-x86_64-linux-gnu.so"]
    assert missing_modules(published, built) == ["yaml._yaml"]
    assert missing_modules(built, published) == []


def file(name: str, **extra: Any) -> dict[str, Any]:
    return {"filename": name, "url": f"https://files.example/{name}", **extra}


def test_the_published_wheel_compared_with_is_the_closest_of_the_same_release() -> None:
    built = "pyyaml-5.4.1-cp310-cp310-linux_x86_64.whl"
    files = [file("PyYAML-5.4.1.tar.gz"),
             file("PyYAML-5.4.1-cp39-cp39-win_amd64.whl"),
             file("PyYAML-5.4.1-cp39-cp39-macosx_10_9_x86_64.whl"),
             file("PyYAML-5.4.1-cp39-cp39-manylinux1_x86_64.whl"),
             file("PyYAML-5.4.1-cp310-cp310-manylinux1_x86_64.whl", yanked=True),
             file("PyYAML-6.0-cp310-cp310-manylinux1_x86_64.whl"),
             file("PyYAML-5.4.1-py3-none-any.whl")]
    chosen = choose_wheel(files, built)
    assert chosen is not None
    assert chosen["filename"] == "PyYAML-5.4.1-cp39-cp39-manylinux1_x86_64.whl"
    assert choose_wheel([file("PyYAML-5.4.1-py3-none-any.whl")], built) is None
    assert choose_wheel([], built) is None
    assert choose_wheel([file(built)], built) is None


def make_wheel(members: int, big: int = 5000) -> bytes:
    """A wheel-like zip with a compiled module of `big` bytes and `members` files besides (its
    central directory grows with them)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pkg/_speed.cp310-win_amd64.pyd", b"MZ" + os.urandom(big))
        for number in range(members):
            archive.writestr(f"pkg/data/file_{number:05d}_with_a_long_enough_name.txt",
                             f"{number}" * 40)
    return buffer.getvalue()


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Any]]]:
    """An http server of one file, /pkg.whl: honouring Range unless told not to; it records
    the byte counts it sent."""
    state: dict[str, Any] = {"body": b"", "ranges": True, "sent": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body: bytes = state["body"]
            wanted = self.headers.get("Range", "")
            if state["ranges"] and wanted.startswith("bytes="):
                first, _, last = wanted[len("bytes="):].partition("-")
                start = len(body) - int(last) if not first else int(first)
                start = max(start, 0)
                end = len(body) - 1 if not first or not last else int(last)
                piece = body[start:end + 1]
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
            else:
                piece = body
                self.send_response(200)
            state["sent"].append(len(piece))  # before the client can have it all
            self.send_header("Content-Length", str(len(piece)))
            self.end_headers()
            self.wfile.write(piece)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/pkg.whl", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_wheels_file_list_is_read_from_its_end(server: tuple[str, dict[str, Any]]) -> None:
    url, state = server
    state["body"] = make_wheel(20, big=400_000)  # a big module in front: only its end is read
    names = file_list(url, {})
    assert "pkg/_speed.cp310-win_amd64.pyd" in names
    assert len(names) == 21
    assert state["sent"] == [published_files.TAIL_BYTES]


def test_a_big_central_directory_takes_a_second_range(server: tuple[str, dict[str, Any]]
                                                      ) -> None:
    url, state = server
    state["body"] = make_wheel(2000)
    assert len(state["body"]) > 4 * published_files.TAIL_BYTES
    names = file_list(url, {})
    assert len(names) == 2001
    assert len(state["sent"]) == 2
    assert sum(state["sent"]) < len(state["body"])


def test_a_server_that_ignores_range_sends_the_whole_wheel(server: tuple[str, dict[str, Any]]
                                                          ) -> None:
    url, state = server
    state["body"], state["ranges"] = make_wheel(5), False
    assert "pkg/_speed.cp310-win_amd64.pyd" in file_list(url, {})
    assert state["sent"] == [len(state["body"])]


def test_an_index_that_cannot_be_read_only_skips_the_comparison(tmp_path: Path) -> None:
    built = tmp_path / "pkg-1.0-cp310-cp310-linux_x86_64.whl"
    with zipfile.ZipFile(built, "w") as archive:
        archive.writestr("pkg/__init__.py", "")
    log = tmp_path / "pkg.log"
    # Nothing listens there: the comparison is skipped, with a line in the build log.
    env = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple/"}
    assert missing_compiled("pkg", built, env, log) == []
    assert "no comparison with the published wheels: the index could not be read" in \
        log.read_text()


def test_only_libraries_beyond_the_core_that_the_platform_lacks_are_carried() -> None:
    linked = ["libc.so.6", "libm.so.6", "libcrypt.so.1", "libsodium.so.23", "libz.so.1"]
    core = {"libc.so.6", "libm.so.6", "libz.so.1"}
    assert graft_libraries.lacking(linked, core=core, platform_has=None) == (
        ["libcrypt.so.1", "libsodium.so.23"], [])
    assert graft_libraries.lacking(linked, core=core,
                                   platform_has={"libcrypt.so.1", "libc.so.6"}) == (
        ["libsodium.so.23"], ["libcrypt.so.1"])
    assert graft_libraries.lacking(["libc.so.6"], core=core, platform_has=set()) == ([], [])


def test_the_core_is_auditwheels_policy_list() -> None:
    pytest.importorskip("auditwheel")
    core = graft_libraries.core_libraries()
    assert {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libz.so.1"} <= core
    assert "libcrypt.so.1" not in core
    assert "libsodium.so.23" not in core
