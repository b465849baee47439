"""Stage four: what is uploaded and reviewed: the self-checking bundle and its sh header, the
review pack (review facts, page, SBOM, pylock.toml, wheel metadata). Imports the stages below
it.
"""
