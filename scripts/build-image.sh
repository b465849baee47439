#!/usr/bin/env bash
# Build a stand-in for Docker's public python:X.Y image without a registry: Debian bookworm from
# Debian's packages (debootstrap), build tools and the shared libraries CPython links against, and a
# CPython X.Y found on this machine copied to /usr/local, where the official image keeps its own.
# The host's CA bundle replaces Debian's so that pip in the image trusts the same roots as the host.
# Usage: build-image.sh X.Y IMAGE_NAME STATE_DIR   (run as root)
set -euo pipefail
version="$1" image="$2" state="$3"
say() { printf '[build-image] %s\n' "$*" >&2; }

find_python() {
    # A python of the wanted minor version: WHEELFERRY_PYTHON_<X_Y>, then PATH, then pyenv's versions.
    local var="WHEELFERRY_PYTHON_${version//./_}" candidate
    for candidate in "${!var:-}" "$(command -v "python$version" || true)" \
        $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version" 2>/dev/null | sort -V -r); do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if "$candidate" -c "import sys; assert '%d.%d' % sys.version_info[:2] == '$version'" 2>/dev/null; then
            printf '%s\n' "$candidate"; return
        fi
    done
    return 1
}

python_bin="$(find_python)" || {
    say "no CPython $version on this machine to put in the image: install one (pyenv install $version) or set WHEELFERRY_PYTHON_${version//./_}"
    exit 1
}
prefix="$("$python_bin" -c 'import sys; print(sys.base_prefix)')"
say "using CPython from $prefix"

command -v debootstrap >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }

rootfs="$state/rootfs-$version"
rm -rf "$rootfs"
mkdir -p "$rootfs"
trap 'rm -rf "$rootfs"' EXIT
mirror="${WHEELFERRY_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
say "debootstrap bookworm into $rootfs (a minute or two)"
debootstrap --variant=minbase \
    --include=build-essential,ca-certificates,libssl3,libffi8,zlib1g,libbz2-1.0,liblzma5,libsqlite3-0,libreadline8,libncursesw6,libuuid1,libgdbm6,libgdbm-compat4,libexpat1,libdb5.3,netbase \
    bookworm "$rootfs" "$mirror" >"$state/debootstrap-$version.log" 2>&1 || {
    tail -n 20 "$state/debootstrap-$version.log" >&2; exit 1; }

say "copying CPython $version into /usr/local"
tar -C "$prefix" --exclude='__pycache__' --exclude='*/site-packages/_sandboxing*' -cf - bin include lib share 2>/dev/null \
    | tar -C "$rootfs/usr/local" -xf -
# Scripts installed under the old prefix carry its path in their shebang.
grep -rlI "^#!$prefix/bin/" "$rootfs/usr/local/bin" 2>/dev/null | while read -r script; do
    sed -i "1s|^#!$prefix/bin/|#!/usr/local/bin/|" "$script"
done
# The build configuration (include dirs, LDFLAGS) names the old prefix too: C extensions built in
# the image must find Python.h under /usr/local, as in the official image.
grep -rlI -- "$prefix" "$rootfs/usr/local/lib/python$version" "$rootfs/usr/local/lib/pkgconfig" \
    "$rootfs/usr/local/bin" 2>/dev/null | grep -v '/site-packages/' | while read -r file; do
    sed -i "s|$prefix|/usr/local|g" "$file"
done
for name in python pip; do
    [ -e "$rootfs/usr/local/bin/$name" ] || ln -s "${name}3" "$rootfs/usr/local/bin/$name"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
chroot "$rootfs" ldconfig
chroot "$rootfs" /usr/local/bin/python3 -c "import ssl, sqlite3, ctypes, zlib, bz2, lzma; print('python ok')" >&2
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

say "importing the root file system as $image"
tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' - "$image" >/dev/null
say "image $image is ready"
