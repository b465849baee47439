"""The project on disk: its `[tool.wheelferry]` settings (config, the pyproject table, per-
package overrides), where its files live (layout), its requirement files and locks, and the
wheelhouse with its manifest. Imports only `core`.
"""
