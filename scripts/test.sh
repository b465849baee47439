#!/usr/bin/env bash
# The test command: provision what the tests need (reusing what exists), lint, then pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
# Without arguments (CI), what takes long on a fresh machine (the engine, the target image, the
# browser) is provisioned in the background while lint and the tests that need no engine run;
# the engine tests follow, on two workers (WHEELFERRY_TEST_WORKERS).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STATE_DIR="${WHEELFERRY_STATE_DIR:-$ROOT/.testbed}"
mkdir -p "$STATE_DIR"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {  # apt_install WHY PACKAGE...
    local why="$1"
    shift
    echo "[test] installing $* ($why)" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive \
             apt-get install -y -qq "$@" >/dev/null; }
}

ensure_shellcheck() {
    command -v shellcheck >/dev/null 2>&1 \
        || apt_install "the init.sh tests lint the generated script" shellcheck
}

ensure_browser() {
    if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then
        apt_install "the review page is printed to PDF by a headless browser and read back" \
            chromium poppler-utils
    fi
}

lint() {
    echo "[test] ruff and mypy (this host, and as on Windows and macOS hosts)" >&2
    # Chained: called as `lint || ...`, where set -e does not stop at a failing step.
    .venv/bin/ruff check src tests tasks.py benchmarks \
        && .venv/bin/mypy \
        && .venv/bin/mypy --platform win32 src \
        && .venv/bin/mypy --platform darwin src
}

run_pytest() {  # pytest's exit code, where 5 (no tests collected) is a failure too
    local status=0
    .venv/bin/python -m pytest "$@" || status=$?
    if [ "$status" -eq 5 ]; then
        echo "[test] pytest collected no tests: that is a failure" >&2
        return 1
    fi
    return "$status"
}

if [ "$#" -gt 0 ]; then
    bash scripts/provision.sh 3.10
    ensure_shellcheck
    ensure_browser
    lint
    echo "[test] pytest $*" >&2
    run_pytest "$@"
    exit $?
fi

WHEELFERRY_PROVISION_STEPS=venv bash scripts/provision.sh 3.10
ensure_shellcheck
log="$STATE_DIR/provision-engine.log"
echo "[test] provisioning the engine, the target image and the browser in the background" \
    "(log: $log)" >&2
(WHEELFERRY_PROVISION_STEPS="engine images" bash scripts/provision.sh 3.10 && ensure_browser) \
    >"$log" 2>&1 < /dev/null &
provisioning=$!

status=0
lint || status=$?
if [ "$status" -eq 0 ]; then
    echo "[test] pytest: the tests that need no engine" >&2
    run_pytest -m "not engine" || status=$?
fi
provisioned=0
wait "$provisioning" || provisioned=$?
cat "$log" >&2
if [ "$provisioned" -ne 0 ]; then
    echo "[test] provisioning failed (exit $provisioned): see above" >&2
    exit 1
fi
[ "$status" -eq 0 ] || exit "$status"
# On workers of their own (each file's tests on one, so a file's shared project is made once):
# the engine tests spend most of their time waiting on containers.
workers="${WHEELFERRY_TEST_WORKERS:-2}"
echo "[test] pytest: the engine tests, on $workers workers" >&2
run_pytest -m engine -n "$workers" --dist loadfile
