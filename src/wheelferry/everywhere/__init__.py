"""Stdlib-only pieces that run in all three of wheelferry's runtimes, written once: the host
imports them (`from wheelferry.everywhere.checksums import sha256_file`); the containers find
them beside the in-container scripts (engine/specs.py copies them into the scripts folder it
mounts), where a script imports them as its siblings, as it imports the other scripts; and the
platform's programs carry their source pasted ahead of onplatform/'s (target/initscript.py's
`pasted_source`: init.sh's installer, a bundle's program, the fingerprint script). So each
module imports the standard library only, nothing of wheelferry, not even its neighbours here;
starts with `from __future__ import annotations` (pasted first, it makes the program's
annotations lazy on the platform's Python 3.8); and defines names that no module it is pasted
beside defines again.
"""
