"""What the wheels a build made say about the lock, checked before anything is kept: a wheel
that requires what the lock does not pin (its sdist's metadata said less), an sdist that builds
only below the lock's major release of what it builds against (numpy<2), both locked again by
the command; and a wheel whose requirements sit where no installer reads them (broken as
published).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from wheelferry.building.fetch import BuildJob
from wheelferry.building.outcome import BuildOutcome
from wheelferry.core.errors import BuildError, LockGapError


def raise_broken_as_published(
        fetched: Sequence[tuple[BuildJob, BuildOutcome, Path]]) -> None:
    """Raise BuildError for a wheel whose requirements sit where no installer reads them (the
    description of its METADATA): installed, it would bring nothing it stands for."""
    broken = [(build.pin, item.hidden_requires) for build, item, _ in fetched
              if item.hidden_requires]
    if not broken:
        return
    raise BuildError(
        " ".join(f"{pin.name} {pin.version} is broken as published: the wheel built from its "
                 f"sdist requires {', '.join(hidden)} only in its description (a blank line in "
                 "an earlier field of its metadata ended the headers), where no installer reads "
                 "it, so installing it brings nothing it stands for."
                 for pin, hidden in broken),
        hint="Require what it stands for instead: in your requirements file, replace "
        + "; ".join(f"{pin.name} with "
                    + ", ".join(_requirement_name(text) for text in hidden)
                    for pin, hidden in broken)
        + ". The previous wheelhouse is unchanged.")


def _requirement_name(text: str) -> str:
    try:
        return str(canonicalize_name(Requirement(text).name))
    except InvalidRequirement:
        return text.split(";")[0].strip()


def raise_lock_gaps(fetched: Sequence[tuple[BuildJob, BuildOutcome, Path]]) -> None:
    """Raise LockGapError when built wheels need the lock to change: a wheel that requires what
    the lock does not pin (its sdist's metadata, which the resolver read, did not say so), or an
    sdist that builds only against an older major release of what the lock pins (numpy<2)."""
    unlocked = {str(build.pin.name): item.unlocked_requires
                for build, item, _ in fetched if item.unlocked_requires}
    bounded = {str(build.pin.name): item.requires_bound
               for build, item, _ in fetched if item.requires_bound}
    if not unlocked and not bounded:
        return
    said = [f"the wheel built from {name}'s sdist requires {', '.join(needs)}, which the lock "
            "does not pin: its sdist's metadata, which the resolver read, does not say so"
            for name, needs in sorted(unlocked.items())]
    said += [f"the sdist of {name}, older than the lock's "
             f"{', '.join(b.split('<')[0] for b in bounds)}, builds only against "
             f"{', '.join(bounds)}, with the build tools of its day"
             for name, bounds in sorted(bounded.items())]
    gaps = dict(unlocked)
    for name, bounds in bounded.items():
        gaps[name] = gaps.get(name, ()) + bounds
    raise LockGapError(
        "; ".join(said) + ".", gaps=gaps,
        hint="Add what it requires to the requirements file that holds it; the previous "
        "wheelhouse is unchanged.")
