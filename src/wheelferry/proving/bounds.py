"""The upper bound that brings back what old code was written for, when a failure's output shows
it meets a newer release of a shipped library: numpy's removed aliases and names, numpy 2's copy
rule, a binary incompatibility (a dtype size changed), an attribute another library's major
release dropped; and a failed smoke test's cause and way out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wheelferry.proving.proof_facts import Facts

# A binary incompatibility with the installed numpy (or another library whose types changed size).
NUMPY = re.compile(r"compiled using NumPy \d|numpy\.\w+ size changed|_ARRAY_API not found|"
                   r"numpy\.core\.(?:multiarray|_multiarray_umath) failed to import|"
                   r"module compiled against (?:ABI|API) version")
SIZE_CHANGED = re.compile(r"([A-Za-z_][\w.]*)\.\w+ size changed, may indicate binary "
                          r"incompatibility")


# The smoke test's failures that old code meets on a newer numpy (or another library that removed
# what it called), and the bound that brings back what it was written for.
NO_ATTRIBUTE = re.compile(r"AttributeError: module '([\w.]+)' has no attribute '(\w+)'")
NUMPY_ALIASES = frozenset({"bool", "int", "float", "complex", "object", "str", "long", "unicode"})
# Names numpy removed before 2.0, and the release that removed them (an import of one fails).
NUMPY_REMOVED_IN = {("numpy.testing", "Tester"): "1.25", ("numpy", "asscalar"): "1.23"}
CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")
NUMPY_COPY = re.compile(r"Unable to avoid copy while creating an array as requested")
NUMPY2_REMOVED = re.compile(r"`np\.\w+` was removed in the NumPy 2\.0 release")


@dataclass(frozen=True)
class Bound:
    """An upper bound to add to a requirements file, and why."""

    requirement: str
    cause: str


def smoke_bound(output: str, facts: Facts) -> Bound | None:
    """The upper bound that fixes a smoke test's failure, when its output shows code written for
    an older release of a shipped library: removed numpy aliases (np.bool: numpy<1.24), numpy 2's
    copy semantics and binary incompatibility (numpy<2), and an attribute the installed major
    release of any other library no longer has (NAME<MAJOR)."""
    if NUMPY_COPY.search(output):
        return Bound("numpy<2", "numpy 2 refuses copy=False where a copy is needed (its copy "
                     "semantics changed); the code was written for numpy 1")
    sized = SIZE_CHANGED.search(output)
    if sized is not None or NUMPY.search(output):
        module = "numpy" if sized is None else sized.group(1).split(".")[0]
        return _older_major(module, facts, "compiled code built against an older "
                            f"{facts.providers.get(module, module)} than the installed one "
                            "(a dtype size changed)")
    if (removed := numpy_removed_name(output)) is not None:
        (module, name), release = removed
        return Bound(f"numpy<{release}", f"numpy {release} removed {module}.{name}; the code was "
                     "written for an older numpy")
    found = NO_ATTRIBUTE.search(output)
    if found is None:
        return None
    module, name = found.group(1).split(".")[0], found.group(2)
    if module == "numpy" and name in NUMPY_ALIASES:
        return Bound("numpy<1.24", f"numpy 1.24 removed the alias np.{name} (use the builtin "
                     f"{name}); the code was written for an older numpy")
    return _older_major(module, facts, f"{found.group(1)}.{name} is gone from the installed "
                        "release; the code was written for an older one")


def numpy_removed_name(output: str) -> tuple[tuple[str, str], str] | None:
    """((module, name), the numpy release that removed it) when the output shows an import of a
    name numpy removed before 2.0 (numpy.testing.Tester: 1.25)."""
    found = CANNOT_IMPORT.search(output)
    if found is None:
        return None
    key = (found.group(2), found.group(1))
    return (key, NUMPY_REMOVED_IN[key]) if key in NUMPY_REMOVED_IN else None


def _older_major(module: str, facts: Facts, cause: str) -> Bound | None:
    dist = facts.providers.get(module, "numpy" if module == "numpy" else "")
    version = facts.environment.get(dist, "")
    parts = version.split(".")
    if not dist or not parts[0].isdigit():
        return Bound("numpy<2", cause) if module == "numpy" else None
    major = int(parts[0])
    if major >= 1:
        return Bound(f"{dist}<{major}", f"{cause} ({dist} {version})")
    if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) >= 1:
        return Bound(f"{dist}<0.{parts[1]}", f"{cause} ({dist} {version})")
    return None


def smoke_advice(output: str, facts: Facts) -> tuple[str, str]:
    """A failed smoke test's cause and way out (its output says the rest)."""
    bound = smoke_bound(output, facts)
    if bound is None:
        return "", ("the output above says why: fix what fails (pin other releases in "
                    f"{facts.default_input}) or the smoke test")
    dist = bound.requirement.split("<")[0]
    return bound.cause, f"add '{bound.requirement}' to {facts.input_of(dist)}"
