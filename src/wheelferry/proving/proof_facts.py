"""What the install proof reports of a module that did not import (and the upstream check of the
same module as published), and what judging it needs besides (the environment after init.sh, the
libraries the shipped wheels carry, the extras, what imported, the project's side).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImportFailure:
    """One module that did not import in the proof, as the in-container script reported it."""

    distribution: str
    module: str
    top: bool
    type: str
    message: str
    missing: str | None = None  # the module a ModuleNotFoundError in the chain names
    stdlib: bool = False  # ... and it is a standard module the image's Python lacks
    output: str = ""  # what the import wrote to stderr

    @property
    def error(self) -> str:
        return self.message if self.type == "crash" else f"{self.type}: {self.message}".strip()


@dataclass(frozen=True)
class ImportOutcome:
    """How a module's import failed elsewhere (the upstream check: the release as published):
    the error's type ("crash" when the interpreter died) and message."""

    type: str
    message: str = ""


@dataclass(frozen=True)
class Facts:
    """What judging needs besides the failure: the environment after init.sh (versions, which
    distribution provides which top-level module), the shared libraries the shipped wheels carry,
    the extras each failing distribution declares, what imported, and the project's side."""

    environment: Mapping[str, str] = field(default_factory=dict)
    providers: Mapping[str, str] = field(default_factory=dict)
    libraries: Mapping[str, str] = field(default_factory=dict)
    extras: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    imported: Mapping[str, frozenset[str]] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)  # distribution -> its .in file
    default_input: str = "requirements.in"
    built: frozenset[str] = frozenset()  # distributions built here from their sdists
    # Distributions whose build left out a compiled part: (what it lacked, the OS package that
    # brings it, the compiled modules its published wheels have that it lacks; each may be "")
    # (a shim that loads that part then fails to import).
    left_out: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    image: str = "the proof's image"

    def input_of(self, distribution: str) -> str:
        return self.inputs.get(distribution, self.default_input)
