"""The `wheelferry` console script: an Invoke Program over the same task collection."""

from __future__ import annotations

from invoke.exceptions import ParseError
from invoke.program import Program

from wheelferry import __version__
from wheelferry.tasks import namespace


class _Program(Program):
    def parse_tasks(self) -> None:
        try:
            super().parse_tasks()
        except ValueError as exc:
            # invoke lets a flag value that does not convert (--jobs x) escape as a traceback.
            raise ParseError(f"wheelferry: a flag's value is not valid ({exc}). "
                             "See 'wheelferry TASK --help'.") from exc


program = _Program(namespace=namespace, name="wheelferry", binary="wheelferry",
                   version=__version__)


def main() -> None:
    program.run()
