"""The pywavelets-2019 set on a desktop start: one real call per package."""

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


def dwt():
    import pywt

    approximation, _ = pywt.dwt([1.0, 2.0, 3.0, 4.0], "db1")
    return f"approximation {[round(v, 3) for v in approximation.tolist()]}"


check("PyWavelets", dwt)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
