"""What a failed build's log says it lacked from the operating system: a C header, a
`*-config` program, a pkg-config module or a library to link (`-lNAME`), and the package that
brings it on Debian and Ubuntu images (apt's names; the default build image, python:X.Y, is
Debian), where the table below knows it.

Shared by the in-container build script (a build that lacks an OS part is not retried with
other Python build tools: they cannot help) and the host (the setting to add). Stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Header (as #include names it) -> Debian package.
HEADERS = {
    "libpq-fe.h": "libpq-dev", "pg_config.h": "libpq-dev", "lber.h": "libldap-dev",
    "ldap.h": "libldap-dev", "sasl/sasl.h": "libsasl2-dev", "hdf5.h": "libhdf5-dev",
    "H5public.h": "libhdf5-dev", "libxml/xmlversion.h": "libxml2-dev",
    "libxml/parser.h": "libxml2-dev", "libxslt/xslt.h": "libxslt1-dev",
    "libxslt/xsltconfig.h": "libxslt1-dev", "ffi.h": "libffi-dev", "openssl/ssl.h": "libssl-dev",
    "openssl/opensslv.h": "libssl-dev", "openssl/evp.h": "libssl-dev", "yaml.h": "libyaml-dev",
    "jpeglib.h": "libjpeg-dev", "png.h": "libpng-dev", "tiffio.h": "libtiff-dev",
    "tiff.h": "libtiff-dev", "ft2build.h": "libfreetype-dev", "cairo.h": "libcairo2-dev",
    "gdal.h": "libgdal-dev", "cpl_conv.h": "libgdal-dev", "geos_c.h": "libgeos-dev",
    "proj.h": "libproj-dev", "fftw3.h": "libfftw3-dev", "cblas.h": "libopenblas-dev",
    "lapacke.h": "liblapacke-dev", "mysql.h": "default-libmysqlclient-dev",
    "mysql/mysql.h": "default-libmysqlclient-dev", "sql.h": "unixodbc-dev",
    "sqlext.h": "unixodbc-dev", "krb5.h": "libkrb5-dev", "gssapi/gssapi.h": "libkrb5-dev",
    "zlib.h": "zlib1g-dev", "bzlib.h": "libbz2-dev", "lzma.h": "liblzma-dev",
    "zstd.h": "libzstd-dev", "lz4.h": "liblz4-dev", "snappy-c.h": "libsnappy-dev",
    "gmp.h": "libgmp-dev", "mpfr.h": "libmpfr-dev", "mpc.h": "libmpc-dev",
    "sndfile.h": "libsndfile1-dev", "portaudio.h": "portaudio19-dev",
    "sqlite3.h": "libsqlite3-dev", "curl/curl.h": "libcurl4-openssl-dev",
    "jansson.h": "libjansson-dev", "sodium.h": "libsodium-dev",
    "libusb-1.0/libusb.h": "libusb-1.0-0-dev",
    "netcdf.h": "libnetcdf-dev", "graphviz/cgraph.h": "libgraphviz-dev", "tk.h": "tk-dev",
    "webp/decode.h": "libwebp-dev", "lcms2.h": "liblcms2-dev", "gsl/gsl_math.h": "libgsl-dev",
    "uuid/uuid.h": "uuid-dev", "readline/readline.h": "libreadline-dev",
    "ncurses.h": "libncurses-dev", "pcap.h": "libpcap-dev", "dbus/dbus.h": "libdbus-1-dev",
    "glib.h": "libglib2.0-dev", "magic.h": "libmagic-dev", "xmlsec/xmlsec.h": "libxmlsec1-dev",
    "systemd/sd-journal.h": "libsystemd-dev", "openjpeg.h": "libopenjp2-7-dev",
}
# `*-config` programs builds run to find a library.
CONFIG_PROGRAMS = {
    "pg_config": "libpq-dev", "mysql_config": "default-libmysqlclient-dev",
    "mariadb_config": "libmariadb-dev", "xml2-config": "libxml2-dev",
    "xslt-config": "libxslt1-dev", "gdal-config": "libgdal-dev", "geos-config": "libgeos-dev",
    "krb5-config": "libkrb5-dev", "curl-config": "libcurl4-openssl-dev",
    "freetype-config": "libfreetype-dev", "sdl2-config": "libsdl2-dev",
    "gpgme-config": "libgpgme-dev", "nc-config": "libnetcdf-dev", "h5cc": "libhdf5-dev",
}
# pkg-config modules.
PKG_CONFIG = {
    "libpq": "libpq-dev", "hdf5": "libhdf5-dev", "libxml-2.0": "libxml2-dev",
    "libxslt": "libxslt1-dev", "libffi": "libffi-dev", "openssl": "libssl-dev",
    "libssl": "libssl-dev", "yaml-0.1": "libyaml-dev", "cairo": "libcairo2-dev",
    "gdal": "libgdal-dev", "proj": "libproj-dev", "fftw3": "libfftw3-dev",
    "openblas": "libopenblas-dev", "mysqlclient": "default-libmysqlclient-dev",
    "odbc": "unixodbc-dev", "krb5": "libkrb5-dev", "krb5-gssapi": "libkrb5-dev",
    "jansson": "libjansson-dev", "libsodium": "libsodium-dev", "sndfile": "libsndfile1-dev",
    "libzstd": "libzstd-dev",
    "zlib": "zlib1g-dev", "freetype2": "libfreetype-dev", "libpng": "libpng-dev",
    "libjpeg": "libjpeg-dev", "libtiff-4": "libtiff-dev", "glib-2.0": "libglib2.0-dev",
    "dbus-1": "libdbus-1-dev", "libsystemd": "libsystemd-dev", "xmlsec1": "libxmlsec1-dev",
    "netcdf": "libnetcdf-dev", "libcurl": "libcurl4-openssl-dev", "lcms2": "liblcms2-dev",
}
# Libraries to link (-lNAME).
LIBRARIES = {
    "pq": "libpq-dev", "ldap": "libldap-dev", "lber": "libldap-dev", "sasl2": "libsasl2-dev",
    "hdf5": "libhdf5-dev", "xml2": "libxml2-dev", "xslt": "libxslt1-dev", "exslt": "libxslt1-dev",
    "ffi": "libffi-dev", "ssl": "libssl-dev", "crypto": "libssl-dev", "yaml": "libyaml-dev",
    "jpeg": "libjpeg-dev", "png": "libpng-dev", "tiff": "libtiff-dev",
    "freetype": "libfreetype-dev", "cairo": "libcairo2-dev", "gdal": "libgdal-dev",
    "geos_c": "libgeos-dev", "proj": "libproj-dev", "fftw3": "libfftw3-dev",
    "openblas": "libopenblas-dev", "lapack": "liblapack-dev", "blas": "libblas-dev",
    "mysqlclient": "default-libmysqlclient-dev", "odbc": "unixodbc-dev", "krb5": "libkrb5-dev",
    "gssapi_krb5": "libkrb5-dev", "z": "zlib1g-dev", "bz2": "libbz2-dev", "lzma": "liblzma-dev",
    "zstd": "libzstd-dev", "gmp": "libgmp-dev", "mpfr": "libmpfr-dev",
    "sndfile": "libsndfile1-dev", "jansson": "libjansson-dev", "snappy": "libsnappy-dev",
    "sodium": "libsodium-dev",
    "usb-1.0": "libusb-1.0-0-dev", "sqlite3": "libsqlite3-dev", "curl": "libcurl4-openssl-dev",
}

_HEADER = re.compile(r"fatal error: ([\w./+-]+\.h(?:pp)?): No such file or directory")
_PROGRAMS = "|".join(re.escape(name) for name in sorted(CONFIG_PROGRAMS, key=len, reverse=True))
_CONFIG = re.compile(r"\b(" + _PROGRAMS + r")\b[^\n]*(?:not found|is required|No such file)")
_PKG_CONFIG = re.compile(r"(?:No package '([\w.+-]+)' found|Package '?([\w.+-]+)'?,? "
                         r"(?:was not found|required by '[^']*', not found))")
_LIBRARY = re.compile(r"cannot find -l([\w.+-]+)")


@dataclass(frozen=True)
class SystemNeed:
    """An OS part a build lacked: its kind ("header", "program", "pkg-config module",
    "library"), its name, and the Debian package that brings it ("" when the table does not
    know it)."""

    kind: str
    name: str
    package: str = ""

    def describe(self) -> str:
        what = f"-l{self.name}" if self.kind == "library" else self.name
        return f"the {self.kind} {what}"


def missing_system_part(log: str) -> SystemNeed | None:
    """The last OS part a build log says it lacked, if any."""
    found: list[tuple[int, SystemNeed]] = []
    for match in _HEADER.finditer(log):
        header = match.group(1)
        if header not in HEADERS and f'#include "{header}"' in log:
            continue  # the sdist's own header (included by quotes): see own_file_missing
        found.append((match.start(), SystemNeed("header", header, HEADERS.get(header, ""))))
    for match in _CONFIG.finditer(log):
        program = match.group(1)
        found.append((match.start(),
                      SystemNeed("program", program, CONFIG_PROGRAMS.get(program, ""))))
    for match in _PKG_CONFIG.finditer(log):
        module = match.group(1) or match.group(2)
        found.append((match.start(),
                      SystemNeed("pkg-config module", module, PKG_CONFIG.get(module, ""))))
    for match in _LIBRARY.finditer(log):
        library = match.group(1)
        found.append((match.start(), SystemNeed("library", library, LIBRARIES.get(library, ""))))
    return max(found, key=lambda item: item[0])[1] if found else None


def own_file_missing(log: str) -> str | None:
    """A header the sdist's own C code includes by quotes (`#include "x.h"`) that is not in it,
    and no OS package is known to bring: the sdist is incomplete (broken as published)."""
    for match in _HEADER.finditer(log):
        header = match.group(1)
        if header not in HEADERS and f'#include "{header}"' in log:
            return header
    return None
