"""Stage one: the locks, resolved for the target's interpreter in its container (uv, or pip-
compile) with hashes, and whether a lock is still fresh; and the `Project` every command reads
once (its build lock, overrides configured and found, provided set). Imports `core`, `project`,
`engine`, `target`.
"""
