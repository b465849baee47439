"""The package index as pip reads it, for the in-container scripts: its indexes (PIP_INDEX_URL,
PIP_EXTRA_INDEX_URL, PIP_NO_INDEX), certificates (PIP_CERT, SSL_CERT_FILE) and credentials (in the
URL); projects' PEP 691 JSON pages (with PEP 700 upload times), and files downloaded checked
against the sha256 the index lists.

Shared by release_dates.py, published_files.py and the build (build_wheels.py) and lock
(compile_locks.py) containers. Stdlib only, besides `packaging` (in the toolchain's venv; pip
vendors it otherwise).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    from packaging import utils
except ImportError:  # the toolchain's venv has packaging; pip vendors the same library
    from pip._vendor.packaging import utils  # type: ignore[no-redef]

if TYPE_CHECKING:
    from wheelferry.everywhere import checksums
else:
    try:  # in the container, everywhere/'s modules sit beside the scripts
        import checksums
    except ImportError:  # loaded from the package (unit tests)
        from wheelferry.everywhere import checksums

JSON_API = "application/vnd.pypi.simple.v1+json"  # PEP 691
DEFAULT_INDEX = "https://pypi.org/simple/"
INDEX_TIMEOUT = 60


def listed_sha256(file: Mapping[str, Any]) -> str:
    """The sha256 a listing gives for a file, lower case; "" when it gives none or a bad one."""
    hashes = file.get("hashes")
    digest = hashes.get("sha256") if isinstance(hashes, dict) else None
    return digest.lower() if isinstance(digest, str) and re.fullmatch(r"[0-9a-fA-F]{64}",
                                                                      digest) else ""


def index_urls(env: Mapping[str, str]) -> list[str]:
    """The indexes pip uses here (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL): none with PIP_NO_INDEX."""
    if env.get("PIP_NO_INDEX", "").lower() in ("1", "true", "yes", "on"):
        return []
    return [env.get("PIP_INDEX_URL") or DEFAULT_INDEX, *env.get("PIP_EXTRA_INDEX_URL", "").split()]


def _ssl_context(env: Mapping[str, str]) -> ssl.SSLContext:
    bundle = env.get("PIP_CERT") or env.get("SSL_CERT_FILE")
    if bundle and Path(bundle).is_dir():
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle or None)


def project_page_url(index_url: str, project: str) -> str:
    return index_url.rstrip("/") + "/" + utils.canonicalize_name(project) + "/"


def index_request(url: str, accept: str, env: Mapping[str, str]
             ) -> tuple[urllib.request.Request, ssl.SSLContext | None]:
    """A request for `url` as pip would make it: credentials in the URL become a Basic
    Authorization header (urllib does not take them from the URL itself, pip does)."""
    parts = urllib.parse.urlsplit(url)
    headers = {"Accept": accept}
    if parts.username is not None or parts.password is not None:
        user = urllib.parse.unquote(parts.username or "")
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        netloc = parts.hostname or ""
        if parts.port is not None:
            netloc += f":{parts.port}"
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    context = _ssl_context(env) if parts.scheme == "https" else None
    return urllib.request.Request(url, headers=headers), context


def fetch_json_page(index_url: str, project: str, env: Mapping[str, str]) -> dict[str, Any] | None:
    """The project's PEP 691 JSON page on one index; None when the index answers in HTML only
    (no JSON API) or knows no such project."""
    request, context = index_request(project_page_url(index_url, project), JSON_API, env)
    try:
        with urllib.request.urlopen(request, timeout=INDEX_TIMEOUT, context=context) as response:
            content_type = response.headers.get("Content-Type", "")
            if content_type.split(";")[0].strip() != JSON_API:
                return None
            page = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise
    return page if isinstance(page, dict) else None


def download_file(file: Mapping[str, Any], folder: Path, env: Mapping[str, str]) -> Path:
    """Download one file of a listing (its `url` absolute, as project_files gives it) into
    `folder`, checked against the sha256 the index lists; raises ValueError on a mismatch."""
    expected = listed_sha256(file)
    if not expected:
        raise ValueError(f"the index lists no sha256 for {file.get('filename')}")
    target = folder / Path(str(file["filename"])).name
    folder.mkdir(parents=True, exist_ok=True)
    request, context = index_request(str(file["url"]), "*/*", env)
    with urllib.request.urlopen(request, timeout=INDEX_TIMEOUT, context=context) as response, \
            target.open("wb") as handle:
        shutil.copyfileobj(response, handle)
    if checksums.sha256_file(target) != expected:
        target.unlink()
        raise ValueError(f"{target.name} does not match the sha256 the index lists")
    return target


def project_files(project: str, env: Mapping[str, str],
                  fetch_page: Callable[[str, str, Mapping[str, str]], dict[str, Any] | None]
                  = fetch_json_page) -> list[dict[str, Any]] | None:
    """The project's files on every index pip uses, from their JSON pages; None when no index
    gives a JSON page for it."""
    files: list[dict[str, Any]] = []
    answered = False
    for index_url in index_urls(env):
        page = fetch_page(index_url, project, env)
        if page is None:
            continue
        answered = True
        page_url = project_page_url(index_url, project)
        # File URLs may be relative to the page (PEP 691): made absolute, to download them.
        files += [dict(file, url=urllib.parse.urljoin(page_url, str(file["url"])))
                  if "url" in file else file
                  for file in page.get("files", []) if isinstance(file, dict)]
    return files if answered else None
