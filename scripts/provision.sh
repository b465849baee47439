#!/usr/bin/env bash
# Provision what wheelferry's example and tests need, reusing whatever is already there:
#   1. a virtual environment (.venv) with wheelferry installed (editable, with the test extras);
#   2. a running container engine (a reachable DOCKER_HOST, else a local dockerd, installed if absent);
#   3. the target image(s): pulled from a registry when one answers, otherwise built locally from
#      Debian's packages plus a local CPython of the same minor version (see build-image.sh).
# Usage: scripts/provision.sh [PYTHON_VERSION ...]   (default: 3.10)
# WHEELFERRY_PROVISION_STEPS (default "venv engine images") names the steps to take, so that the
# test command can make the venv first and the rest while the tests that need no engine run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${WHEELFERRY_STATE_DIR:-$ROOT/.testbed}"
VENV="${WHEELFERRY_VENV:-$ROOT/.venv}"
mkdir -p "$STATE_DIR"

say() { printf '[provision] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_venv() {
    local stamp="$VENV/.wheelferry-installed" host_python="${WHEELFERRY_HOST_PYTHON:-python3}"
    if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$stamp" -nt "$ROOT/pyproject.toml" ]; then
        say "reusing virtual environment $VENV"
        return
    fi
    say "installing wheelferry into $VENV"
    "$host_python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e "${ROOT}[test]"
    touch "$stamp"
}

engine_answers() { timeout 20 docker info >/dev/null 2>&1; }

ensure_engine() {
    if engine_answers; then
        say "reusing the container engine at ${DOCKER_HOST:-the default socket}"
        return
    fi
    if [ -n "${DOCKER_HOST:-}" ]; then
        say "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST"
        exit 1
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        say "installing the Docker engine (Debian package docker.io)"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
    fi
    say "starting dockerd (log: $STATE_DIR/dockerd.log)"
    # Detached, in a session of its own, holding none of our descriptors: a daemon that kept a
    # caller's pipe or lock open would make whoever waits on it wait forever.
    as_root python3 - "$STATE_DIR/dockerd.log" <<'PYTHON'
import subprocess
import sys

with open(sys.argv[1], "ab") as log:
    subprocess.Popen(["dockerd"], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                     close_fds=True, start_new_session=True)
PYTHON
    for _ in $(seq 1 60); do
        engine_answers && { say "dockerd is up"; return; }
        sleep 1
    done
    say "dockerd did not answer within 60 s; see $STATE_DIR/dockerd.log"
    tail -n 20 "$STATE_DIR/dockerd.log" >&2 || true
    exit 1
}

ensure_image() {
    local version="$1" image="python:$1"
    if docker image inspect "$image" >/dev/null 2>&1; then
        say "reusing image $image"
        return
    fi
    say "pulling $image"
    if timeout 300 docker pull --quiet "$image" >/dev/null 2>&1; then
        return
    fi
    say "no registry answered for $image; building it locally from Debian packages"
    as_root bash "$ROOT/scripts/build-image.sh" "$version" "$image" "$STATE_DIR"
}

main() {
    local versions=("$@")
    [ "${#versions[@]}" -gt 0 ] || versions=(3.10)
    local steps=" ${WHEELFERRY_PROVISION_STEPS:-venv engine images} "
    [[ "$steps" != *" venv "* ]] || ensure_venv
    [[ "$steps" != *" engine "* ]] || ensure_engine
    if [[ "$steps" == *" images "* ]]; then
        for v in "${versions[@]}"; do ensure_image "$v"; done
    fi
}

main "$@"
