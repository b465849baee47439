"""The public import path of wheelferry's Invoke collection, for a project's own tasks.py:
`from wheelferry.tasks import namespace as ns` (docs/uploading.md). The tasks live at the edge
(edge/tasks.py); this name stays so that a project's tasks.py never changes with the layout."""

from wheelferry.edge.tasks import namespace

__all__ = ["namespace"]
