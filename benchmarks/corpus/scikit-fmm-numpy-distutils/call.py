"""The scikit-fmm-numpy-distutils set on a desktop start: one real call per package."""

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


def distance():
    import numpy as np
    import skfmm

    phi = np.ones((3, 3))
    phi[1, 1] = -1
    return f"distance at centre {float(skfmm.distance(phi)[1, 1]):.4f}"


check("scikit-fmm", distance)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
