"""The sklearn-placeholder set on a desktop start: one real call per package."""

import sys
import traceback

failed = []


def check(name, call):
    """Run one real call of a package; one line per package, a traceback when it fails."""
    try:
        print(f"ok {name}: {call()}", flush=True)
    except Exception:
        failed.append(name)
        print(f"FAILED {name}:", flush=True)
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()

check("sklearn", lambda: __import__("sklearn").__version__)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
