"""The vulnerability lookup: PyPI's JSON API shape read, and fail-closed: a release that could
not be looked up is "not checked", never "none found"."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from wheelferry.proving import vulnerabilities as vu


class _Index(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        documents = {
            "/pypi/bad/1.0/json": {"info": {}, "vulnerabilities": [{
                "id": "GHSA-xxxx", "aliases": ["CVE-1"], "details": "d", "fixed_in": ["1.1"],
                "link": "https://osv.dev/GHSA-xxxx", "withdrawn": None}, {
                "id": "OLD-1", "withdrawn": "2025-01-01T00:00:00Z"}]},
            "/pypi/good/1.0/json": {"info": {}, "vulnerabilities": []},
            "/pypi/nolist/1.0/json": {"info": {}},
        }
        document = documents.get(self.path)
        if document is None:
            self.send_error(404)
            return
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def index() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_api_base_is_the_index_without_simple() -> None:
    assert vu.api_base(None) == "https://pypi.org"
    assert vu.api_base("https://pypi.org/simple/") == "https://pypi.org"
    assert vu.api_base("http://127.0.0.1:8080/simple") == "http://127.0.0.1:8080"
    assert vu.release_url("https://pypi.org", "a-b", "1.0") == "https://pypi.org/pypi/a-b/1.0/json"


def test_each_release_is_checked_or_not_checked_with_why(index: str) -> None:
    when = datetime(2026, 12, 5, tzinfo=timezone.utc)
    found = vu.check([("bad", "1.0"), ("good", "1.0"), ("nolist", "1.0"), ("gone", "2.0")],
                     base=index, now=when)
    assert found.checked_at == "2026-12-05T00:00:00+00:00"
    assert found.source == index
    bad = found.of("bad", "1.0")
    assert bad is not None
    assert bad.status == vu.CHECKED
    assert [a.id for a in bad.advisories] == ["GHSA-xxxx"]  # the withdrawn one is left out
    assert bad.advisories[0].fixed_in == ("1.1",)
    good = found.of("good", "1.0")
    assert good is not None
    assert (good.status, good.advisories) == (vu.CHECKED, ())
    nolist = found.of("nolist", "1.0")
    assert nolist is not None
    assert nolist.status == vu.NOT_CHECKED
    assert "no 'vulnerabilities' list" in nolist.reason
    gone = found.of("gone", "2.0")
    assert gone is not None
    assert gone.status == vu.NOT_CHECKED
    assert "HTTP 404" in gone.reason
    assert found.status == "partly checked"


def test_an_unreachable_index_is_not_checked() -> None:
    found = vu.check([("a", "1.0")], base="http://127.0.0.1:9")
    assert found.status == vu.NOT_CHECKED
    assert found.releases[0].advisories == ()
    assert "could not be read" in found.releases[0].reason
