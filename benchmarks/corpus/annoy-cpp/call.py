"""The annoy-cpp set on a desktop start: one real call per package."""

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


def nearest():
    from annoy import AnnoyIndex

    index = AnnoyIndex(2, "euclidean")
    for i, vector in enumerate([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]):
        index.add_item(i, vector)
    index.build(2)
    return f"nearest to item 0: {index.get_nns_by_item(0, 2)}"


check("annoy", nearest)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
