#!/usr/bin/env bash
# Build the platform example's workstation replica (examples/platform/workstation) as
# wheelferry-example-workstation:1, from python:3.10 and the public package index; reuse it while
# its recipe is unchanged. The host's CA bundle goes into the build so pip trusts the same roots.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
image="wheelferry-example-workstation:1"
recipe="$ROOT/examples/platform/workstation"
digest="$(cat "$recipe/Dockerfile" "$recipe/entrypoint.sh" | sha256sum | cut -c1-16)"
say() { printf '[workstation] %s\n' "$*" >&2; }

if [ "$(docker image inspect --format '{{ index .Config.Labels "io.wheelferry.recipe" }}' "$image" 2>/dev/null)" = "$digest" ]; then
    say "reusing $image"
    exit 0
fi
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp "$recipe/Dockerfile" "$recipe/entrypoint.sh" "$context/"
bundle="$(python3 -c 'import ssl; print(ssl.get_default_verify_paths().cafile or "")')"
if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then bundle="$PIP_CERT"; fi
if [ -n "$bundle" ] && [ -f "$bundle" ]; then cp -L "$bundle" "$context/ca-bundle.pem"; else : >"$context/ca-bundle.pem"; fi
say "building $image (numpy, pandas and SimpleITK from the package index; a minute or two)"
DOCKER_BUILDKIT=0 docker build --quiet --label "io.wheelferry.recipe=$digest" -t "$image" "$context" >/dev/null
say "$image is ready"
