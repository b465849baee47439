"""The container engine: what the stages ask of one (the `Engine` protocol, with the values it
speaks in), the real one through the Docker SDK for Python (client), every container wheelferry
starts specified in one place (specs), and a container's output read as lines (output). Imports
`core` and `project`.
"""
