"""tasks: every command takes its flags the same way."""

from __future__ import annotations

from collections import defaultdict

from wheelferry.edge.tasks import SHORT_FLAGS, namespace


def flag_names() -> dict[str, dict[str, list[str]]]:
    """task -> long flag -> its short flags."""
    found: dict[str, dict[str, list[str]]] = {}
    for name, task in namespace.tasks.items():
        found[name] = {}
        for argument in task.get_arguments():
            long_name = next(n for n in argument.names if len(n) > 1)
            found[name][long_name] = [n for n in argument.names if len(n) == 1]
    return found


def test_a_short_flag_means_the_same_long_flag_in_every_command() -> None:
    meanings: dict[str, set[str]] = defaultdict(set)
    for flags in flag_names().values():
        for long_name, shorts in flags.items():
            for short in shorts:
                meanings[short].add(long_name)
    assert meanings, "no short flags at all"
    assert {short: longs for short, longs in meanings.items() if len(longs) > 1} == {}


# Commands that work on no project (cache: the user's caches).
NO_PROJECT = ("cache",)


def test_project_is_p_in_every_command_and_only_table_flags_are_short() -> None:
    for task, flags in flag_names().items():
        if task in NO_PROJECT:
            assert "project" not in flags
        else:
            assert flags["project"] == ["p"], task
        for long_name, shorts in flags.items():
            expected = [SHORT_FLAGS[long_name.replace("-", "_")]] \
                if long_name.replace("-", "_") in SHORT_FLAGS else []
            assert shorts == expected, (task, long_name)


def test_upgrade_package_has_no_short_flag() -> None:
    for task in ("lock", "build"):
        assert flag_names()[task]["upgrade-package"] == []
