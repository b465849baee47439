#!/usr/bin/env bash
# The test command: provision what the tests need (reusing what exists), lint, then pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/provision.sh 3.10
if ! command -v shellcheck >/dev/null 2>&1; then
    echo "[test] installing shellcheck (the init.sh tests lint the generated script)" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null \
        || { "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
             apt-get install -y -qq shellcheck >/dev/null; }
fi
if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then
    echo "[test] installing chromium and poppler-utils (the review page is printed to PDF by a" \
        "headless browser and read back)" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null \
        || { "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
             apt-get install -y -qq chromium poppler-utils >/dev/null; }
fi

echo "[test] ruff and mypy (this host, and as on Windows and macOS hosts)" >&2
.venv/bin/ruff check src tests tasks.py benchmarks
.venv/bin/mypy
.venv/bin/mypy --platform win32 src
.venv/bin/mypy --platform darwin src

echo "[test] pytest" >&2
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "[test] pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
