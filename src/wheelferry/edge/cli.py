"""The `wheelferry` console script: an Invoke Program over the same task collection.

Its help shows wheelferry's commands and options only: invoke's core options (--pty, --dry,
--write-pyc, ...) mean nothing for wheelferry, and `-p` is the project in every command."""

from __future__ import annotations

import contextlib
import io

from invoke.exceptions import ParseError
from invoke.parser.argument import Argument
from invoke.program import Program

from wheelferry import __version__
from wheelferry.edge.tasks import namespace

# The core options kept (what a console script offers: version, help, list, completion), with
# help in wheelferry's words.
KEPT_CORE = {
    "version": "Show wheelferry's version and exit.",
    "help": "Show this help, or a command's: wheelferry build --help.",
    "list": "List the commands.",
    "complete": "Print tab-completion candidates (used by the completion script).",
    "print-completion-script": "Print the tab-completion script for your shell (bash|zsh|fish).",
}


class _Program(Program):
    def core_args(self) -> list[Argument]:
        kept = [arg for arg in super().core_args() if arg.name in KEPT_CORE]
        for arg in kept:
            arg.help = KEPT_CORE[str(arg.name)]
        return kept

    def normalize_argv(self, argv: list[str] | None) -> None:
        super().normalize_argv(argv)
        self.argv = requirements_as_flags(self.argv)
        if self.argv[1:2] == ["cache"] and (len(self.argv) == 2 or self.argv[2].startswith("-")):
            # invoke needs a positional argument given: 'wheelferry cache' is 'cache info'.
            self.argv.insert(2, "info")

    def parse_core_args(self) -> None:
        super().parse_core_args()
        # Invoke reads its other core options (pty, dry, write-pyc, ...) while it runs: they
        # keep their defaults, and no flag sets them.
        parsed = self.core[0].args
        for arg in super().core_args():
            if arg.name not in parsed:
                parsed[arg.name] = arg

    def print_help(self) -> None:
        print(f"Usage: {self.binary} COMMAND [--options]    (e.g. {self.binary} init, "
              f"{self.binary} build --help)")
        print("")
        print("Options:")
        print("")
        self.print_columns(self.initial_context.help_tuples())
        self.list_tasks()

    def print_task_help(self, name: str) -> None:
        # invoke's own text names its core options: "Usage: wheelferry [--core-opts] ...".
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            super().print_task_help(name)
        print(captured.getvalue().replace(" [--core-opts]", "").replace(
            " [other tasks here ...]", ""), end="")

    def parse_tasks(self) -> None:
        try:
            super().parse_tasks()
        except ValueError as exc:
            # invoke lets a flag value that does not convert (--jobs x) escape as a traceback.
            raise ParseError(f"wheelferry: a flag's value is not valid ({exc}). "
                             "See 'wheelferry TASK --help'.") from exc


def requirements_as_flags(argv: list[str]) -> list[str]:
    """`wheelferry init numpy 'pandas<3'`: the words after `init` that are no flag or flag value
    are requirements (invoke takes a bare word for another task): each becomes
    `--requirement WORD`."""
    if "init" not in argv[1:2]:
        return argv
    context = next(c for c in namespace.to_contexts() if c.name == "init")
    valued = {f"-{name}" if len(name) == 1 else f"--{name}"
              for arg in context.args.values() if arg.takes_value for name in arg.names}
    result, words = argv[:2], iter(argv[2:])
    for word in words:
        if not word.startswith("-"):
            result += ["--requirement", word]
            continue
        result.append(word)
        if word in valued:
            following = next(words, None)
            if following is not None:
                result.append(following)
    return result


program = _Program(namespace=namespace, name="wheelferry", binary="wheelferry",
                   version=__version__)


def main() -> None:
    program.run()
