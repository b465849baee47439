"""One error hierarchy for wheelferry. Each error carries its exit code and a one-paragraph
message; only the task layer (the edge) turns them into output and exit codes."""

from __future__ import annotations

import errno


class WheelferryError(Exception):
    """Base of every error wheelferry reports to a user."""

    exit_code = 1
    title = "wheelferry failed"

    def __init__(self, message: str, *, hint: str | None = None, details: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def render(self) -> str:
        """The one-paragraph message (plus an optional indented log tail) shown to the user."""
        text = f"{self.title}: {self.message}"
        if self.hint:
            text += f" {self.hint}"
        if self.details:
            tail = "\n".join(f"    {line}" for line in self.details.rstrip().splitlines())
            text += f"\n{tail}"
        return text


class ConfigError(WheelferryError):
    """The project's configuration (pyproject.toml, flags) is missing or invalid."""

    exit_code = 2
    title = "configuration error"


class EngineError(WheelferryError):
    """The container engine cannot be reached or refused a request."""

    exit_code = 3
    title = "container engine error"


class ImageError(EngineError):
    """The target image is not present and cannot be pulled, or is not the configured target."""

    title = "image error"


class LockError(WheelferryError):
    """Resolving requirements into a lock failed."""

    exit_code = 4
    title = "lock failed"


class BuildError(WheelferryError):
    """Building or assembling the wheelhouse failed."""

    exit_code = 5
    title = "build failed"


class LockGapError(BuildError):
    """A wheel built from an sdist requires what the lock does not pin: the sdist's metadata,
    which the resolver read, did not say so. `gaps`: package -> what its wheel requires."""

    def __init__(self, message: str, *, gaps: dict[str, tuple[str, ...]],
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.gaps = gaps


class VerifyError(WheelferryError):
    """The wheelhouse did not pass verification."""

    exit_code = 6
    title = "verification failed"


class BusyError(WheelferryError):
    """Another wheelferry run holds this project's run lock."""

    exit_code = 7
    title = "project busy"


class InitScriptError(WheelferryError):
    """Writing or updating the platform's init.sh failed."""

    exit_code = 8
    title = "init-script failed"


class BundleError(WheelferryError):
    """Writing the one-file installer (`bundle`) failed, or its inputs are not fit for it."""

    exit_code = 10
    title = "bundle failed"


class ReviewError(WheelferryError):
    """Writing the review pack (`review`, `bundle --review`) failed, or its inputs are missing."""

    exit_code = 11
    title = "review failed"


class VulnerableError(ReviewError):
    """--fail-on-vulnerable: a shipped release has a known vulnerability."""

    exit_code = 12
    title = "known vulnerabilities"


class LicenceNotAllowed(ReviewError):
    """A shipped distribution's licence is not in 'allowed-licenses'."""

    exit_code = 13
    title = "licence not allowed"


class Interrupted(WheelferryError):
    """The user interrupted the run (Ctrl-C or SIGTERM); nothing was changed."""

    exit_code = 130
    title = "interrupted"


class StorageError(WheelferryError):
    """Writing to disk failed (full, read-only, no permission); nothing was half-written."""

    exit_code = 9
    title = "cannot write"


def from_os_error(error: OSError) -> WheelferryError:
    """A clear error for an OSError that escaped the core (disk full, read-only folder...)."""
    where = f" {error.filename}" if error.filename else ""
    reason = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageError(
            f"{reason}:{where}.",
            hint="Free some space or make the folder writable (or choose another 'wheelhouse'), "
            "then run again; the previous wheelhouse and locks are unchanged.",
        )
    if error.errno == errno.EBUSY:
        return StorageError(
            f"{reason}:{where}.",
            hint="A folder wheelferry replaces is in use or mounted there: point 'wheelhouse' at "
            "a folder inside it (or stop what uses it), then run again; the previous wheelhouse "
            "and locks are unchanged.",
        )
    return WheelferryError(f"system error: {reason}{where}.",
                           hint="The previous wheelhouse and locks are unchanged.")
