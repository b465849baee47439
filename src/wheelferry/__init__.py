"""wheelferry: complete, verified offline wheelhouses for locked-down Python platforms."""

__version__ = "0.1.0"
