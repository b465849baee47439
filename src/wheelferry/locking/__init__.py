"""Stage one: the locks, resolved for the target's interpreter in its container (uv, or pip-
compile) with hashes, and whether a lock is still fresh. Imports `core`, `project`, `engine`,
`target`.
"""
