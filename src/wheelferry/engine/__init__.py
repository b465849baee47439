"""The container engine: the client (Docker SDK for Python), every container wheelferry starts
specified in one place (specs), and a container's output read as lines (output). Imports `core`
and `project`.
"""
