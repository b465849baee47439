"""The small core every stage shares: the error hierarchy (exit codes, one-paragraph messages),
files written whole, the report the user sees, the checked values of a container's report, the
one-run-per-project lock, and the diagnosis of pip's and the resolvers' output with their logs'
readable end. Imports of wheelferry only the folders below it (`everywhere/`, `onplatform/`) and
`incontainer/` (the shared pure parts of the container scripts).
"""
