"""Repository tasks: wheelferry's collection (lock, build, verify, init-script) and dev tasks."""

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from wheelferry.tasks import namespace as wheelferry_tasks


@task
def test(c: Context) -> None:
    """Provision the test bed if needed (engine, images) and run the whole test suite."""
    c.run("bash scripts/test.sh", pty=False)


@task
def lint(c: Context) -> None:
    """ruff and mypy (strict) over the package and the tests."""
    c.run("ruff check src tests tasks.py benchmarks")
    c.run("mypy")


ns = Collection(*wheelferry_tasks.tasks.values(), test, lint)
