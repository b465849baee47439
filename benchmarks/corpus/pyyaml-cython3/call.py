"""The pyyaml-cython3 set on a desktop start: one real call per package."""

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


def yaml_roundtrip():
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    data = yaml.safe_load("a: [1, 2]")
    return f"{data}, C loader {'present' if loader else 'MISSING'}"


check("PyYAML", yaml_roundtrip)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")
