"""The `wheelferry` console script: an Invoke Program over the same task collection."""

from __future__ import annotations

from invoke.program import Program

from wheelferry import __version__
from wheelferry.tasks import namespace

program = Program(namespace=namespace, name="wheelferry", binary="wheelferry",
                  version=__version__)


def main() -> None:
    program.run()
