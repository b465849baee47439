"""The pycocotools-2020 set on a desktop start: one real call per package."""

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


def mask_roundtrip():
    import numpy as np
    from pycocotools import mask

    encoded = mask.encode(np.asfortranarray(np.ones((4, 4), dtype=np.uint8)))
    return f"area {int(mask.area(encoded))}"


check("pycocotools", mask_roundtrip)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
