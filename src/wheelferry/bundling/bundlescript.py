"""The installer text at the head of a bundle: POSIX sh that checks the file it is in (its size,
and the payload's sha256 with coreutils, before anything else), offers --check and --help, then
hands the work to the platform's python3, running the source of platformdir.py and unbundle.py
with the install dir and wheelferry's init.sh block exactly as `init-script` writes them. Its
last line is a marker; the payload (a tar archive) follows it, at the byte offset the header
records. The shell never reads past the marker: the script exits before it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from wheelferry import __version__
from wheelferry.onplatform import platformdir, reviewsummary, unbundle
from wheelferry.project.manifest import SUMS
from wheelferry.target import initscript

FORMAT = 1
MARKER = "# __WHEELFERRY_PAYLOAD_BELOW__"
PROGRAM_END = "WHEELFERRY_UNBUNDLE"
REVIEW_END = "WHEELFERRY_REVIEW"
SHA_PLACEHOLDER = "0" * 64
_PLACEHOLDER = re.compile("@([A-Z_]+)@")

_TEMPLATE = """\
#!/bin/sh
# wheelferry bundle (format @FORMAT@), made by wheelferry @VERSION@: a wheelhouse and its
# installer in one file. On the platform, from wherever the upload landed:
#     sh wheelferry-bundle.sh           check it, put the wheelhouse in place, update
#                                       ~/persistent-home/init.sh, install the packages now
#     sh wheelferry-bundle.sh --check   only check that this file is intact
#     sh wheelferry-bundle.sh --review  what it installs, from where, licences (with --review)
#     sh wheelferry-bundle.sh --help
# @KIND_COMMENT@
# The payload, a tar archive, follows the marker line at the end, at byte payload_offset.
payload_offset=@OFFSET@
payload_size=@SIZE@
payload_sha256=@SHA@
sums_sha256=@SUMS_SHA@
summary=@SUMMARY@
install_dir=@INSTALL_DIR@
python="${WHEELFERRY_PYTHON:-python3}"

say() {
    printf 'wheelferry-bundle: %s\\n' "$*" >&2
}

usage() {
    printf '%s\\n' \\
        "Usage: sh $0 [--check | --review | --sbom | --help]" \\
        "" \\
        "This file holds a wheelhouse ($summary) and installs it:" \\
        "  1. it checks that this file is intact (its size and the sha256 in its header);" \\
        "     a truncated or altered upload is refused and nothing changes;" \\
        "  2. it puts the wheelhouse at $install_dir, whole: unpacked beside it, every" \\
        "     file checked against @SUMS@, then swapped in (the previous one stays until" \\
        "     then; a delta also checks the wheels it keeps from there first);" \\
        "  3. it writes wheelferry's block into ~/persistent-home/init.sh (your own lines are" \\
        "     kept), so every desktop and job start installs the packages;" \\
        "  4. it installs them now, offline." \\
        "" \\
        "  --check   only step 1; nothing changes" \\
        "  --review  step 1, then the review it carries (made by 'wheelferry bundle" \\
        "            --review'): what it installs, from where, licences, advisories" \\
        "  --sbom    step 1, then the SBOM it carries (CycloneDX JSON) on standard output" \\
        "  --help    this text" \\
        "" \\
        "It needs sh, coreutils and python3 (WHEELFERRY_PYTHON names another python)." \\
        "Exit status: 0 done; 1 refused or stopped (nothing changed); 2 wrong usage;" \\
        "3 the wheelhouse and init.sh are in place but installing now failed."
}

check=no
show=
for arg in "$@"; do
    case $arg in
        --check) check=yes ;;
        --review) show=review ;;
        --sbom) show=sbom ;;
        -h | --help) usage; exit 0 ;;
        *) say "unknown option '$arg'"; usage >&2; exit 2 ;;
    esac
done

self=$0
if [ ! -f "$self" ] || [ ! -r "$self" ]; then
    say "cannot read this bundle's own file ('$self'): run it as 'sh wheelferry-bundle.sh'," \\
        "not through a pipe. Nothing was changed."
    exit 1
fi
expected=$((payload_offset + payload_size))
actual=$(wc -c <"$self") || exit 1
actual=$((actual))
if [ "$actual" -lt "$expected" ]; then
    say "refused: this file is truncated: it has $actual bytes, its header says $expected" \\
        "(the upload did not finish?). Upload it again. Nothing was changed."
    exit 1
fi
if [ "$actual" -gt "$expected" ]; then
    say "refused: this file has $actual bytes, more than the $expected its header says" \\
        "(altered, or something was appended). Upload it again. Nothing was changed."
    exit 1
fi
if ! sum=$(tail -c +"$((payload_offset + 1))" "$self" | sha256sum); then
    say "refused: cannot compute the payload's sha256 (is sha256sum there?)." \\
        "Nothing was changed."
    exit 1
fi
sum=${sum%% *}
if [ "$sum" != "$payload_sha256" ]; then
    say "refused: this file was altered: its payload's sha256 is $sum, its header says" \\
        "$payload_sha256. Upload it again. Nothing was changed."
    exit 1
fi
say "this file is intact (its payload matches the sha256 in its header): $summary"
if [ "$check" = yes ]; then
    say "--check: nothing was changed"
    exit 0
fi
if ! command -v "$python" >/dev/null 2>&1; then
    say "refused: there is no '$python' here (WHEELFERRY_PYTHON names the platform's" \\
        "python3). Nothing was changed."
    exit 1
fi
if [ -n "$show" ]; then
    "$python" - "$self" "$payload_offset" "$sums_sha256" "$show" <<'@REVIEW_END@'
@REVIEW_PROGRAM@
@REVIEW_END@
    exit $?
fi
"$python" - "$self" "$install_dir" "$payload_offset" "$payload_size" "$sums_sha256" \\
    <<'@PROGRAM_END@'
@PROGRAM@
@PROGRAM_END@
exit $?
@CARRIED@@MARKER@
"""


@dataclass(frozen=True)
class Script:
    """A bundle's head, through the marker line: `text` still holds a placeholder where the
    payload's sha256 goes, at byte `sha_at`. The payload starts at byte len(text)."""

    text: bytes
    sha_at: int

    @property
    def payload_offset(self) -> int:
        return len(self.text)

    def with_sha(self, payload_sha256: str) -> bytes:
        sha = payload_sha256.encode("ascii")
        assert len(sha) == len(SHA_PLACEHOLDER)
        return self.text[: self.sha_at] + sha + self.text[self.sha_at + len(sha):]


def program(install_dir: str) -> str:
    """The Python program the header runs: platformdir.py's source, unbundle.py's (without its
    imports of wheelferry and of __future__, which platformdir's already made), and the call of
    its main with init.sh's block for install_dir."""
    fields = {"begin": initscript.BEGIN, "end": initscript.END,
              "new_file_head": initscript.NEW_FILE_HEAD,
              "block": initscript.render_block(install_dir),
              "installer": initscript.installer_source()}
    arguments = ", ".join(f"{name}={value!r}" for name, value in fields.items())
    text = (initscript.pasted_source(platformdir, unbundle) + "\n\n\nif __name__ == \"__main__\":\n"
            f"    sys.exit(main(sys.argv[1:], InitScript({arguments})))")
    assert PROGRAM_END not in text.splitlines()
    return text


def review_program() -> str:
    """The Python program --review and --sbom run: reviewsummary.py's source and its main."""
    text = (initscript.pasted_source(reviewsummary)
            + "\n\n\nif __name__ == \"__main__\":\n    sys.exit(main(sys.argv[1:]))")
    assert REVIEW_END not in text.splitlines()
    return text


def carried_text(carried: Mapping[str, bytes] | None) -> str:
    """The files a bundle carries (review.json, the SBOM) as comment lines of its header."""
    if not carried:
        return ""
    return "".join(reviewsummary.embed(name, data) + "\n" for name, data in carried.items())


def render(*, install_dir: str, payload_size: int, sums_sha256: str, since_sha256: str | None,
           summary: str, carried: Mapping[str, bytes] | None = None) -> Script:
    """The head of a bundle; payload_offset is its own length (found by filling it in until
    the length stops changing)."""
    kind = ("a full wheelhouse." if since_sha256 is None else
            f"a delta over the wheelhouse whose {SUMS} has sha256 {since_sha256}.")
    values = {"FORMAT": str(FORMAT), "VERSION": __version__, "KIND_COMMENT": f"It holds {kind}",
              "SIZE": str(payload_size), "SHA": SHA_PLACEHOLDER, "SUMS_SHA": sums_sha256,
              "SUMMARY": shlex.quote(summary),
              "INSTALL_DIR": initscript.quote_install_dir(install_dir), "SUMS": SUMS,
              "MARKER": MARKER, "PROGRAM_END": PROGRAM_END, "PROGRAM": program(install_dir),
              "REVIEW_END": REVIEW_END, "REVIEW_PROGRAM": review_program(),
              "CARRIED": carried_text(carried)}
    offset = 0
    for _ in range(8):
        values["OFFSET"] = str(offset)
        # One pass: a value is never scanned for placeholders itself.
        text = _PLACEHOLDER.sub(lambda found: values[found.group(1)], _TEMPLATE).encode("utf-8")
        if len(text) == offset:
            before = f"\npayload_sha256={SHA_PLACEHOLDER}\n".encode()
            return Script(text=text, sha_at=text.index(before) + len("\npayload_sha256="))
        offset = len(text)
    raise AssertionError("the header's length does not settle")  # pragma: no cover
