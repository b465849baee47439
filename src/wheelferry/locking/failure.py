"""Why a lock could not be made, told from the lock container's output: each attempt (uv,
pip-compile, with what was found, with the build tools of an sdist's day) failed its own way,
and the last one explains the failure."""

from __future__ import annotations

from wheelferry.core.diagnose import Diagnosis, diagnose, provided_conflict
from wheelferry.core.errors import LockError
from wheelferry.core.logtail import attempts_told_apart, log_tail
from wheelferry.locking.project import Project
from wheelferry.target.provided import Provided


def lock_failure(project: Project, *, failed: str, log: str) -> LockError:
    """The error for a lock container that failed locking `failed`, its output `log`."""
    title, last, earlier = attempts_told_apart(log)
    found = _provided_conflict(log, project.provided) or diagnose(
        last, tried_dated="release date" in title, whole_log=log)
    summary = found.summary if found else "pip-compile failed"
    details = log_tail(last)
    if earlier:
        details = "\n".join([*earlier, f"attempt {len(earlier) + 1} ({title}), the end "
                              "of its output:", details])
    target = project.options.target
    return LockError(
        f"locking {failed} for python {target.python} in {target.image} failed: {summary}.",
        hint=(found.hint if found else "See pip-compile's output below.")
        + " The previous locks are unchanged.",
        details=details,
    )


def _provided_conflict(log: str, provided: Provided | None) -> Diagnosis | None:
    if provided is None:
        return None
    return provided_conflict(log, {str(n): str(v) for n, v in provided.packages})
