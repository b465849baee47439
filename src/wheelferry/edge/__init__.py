"""The command-line edge: the Invoke task collection, the `wheelferry` console script over it,
and `--json` output. The only place that imports invoke and turns errors into exit codes and
messages.
"""
