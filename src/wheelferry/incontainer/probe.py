"""Runs in the target image with its own python3: prints what the target interpreter is.

Output: one line `WHEELFERRY-PROBE <json>` with the version and the interpreter's supported wheel
tags, most preferred first, so that the host can check wheels against the target, not itself.
"""

from __future__ import annotations

import json
import platform
import sys

try:
    from packaging import tags
except ImportError:  # the bare image: pip vendors the same library
    from pip._vendor.packaging import tags  # type: ignore[no-redef]

print(
    "WHEELFERRY-PROBE "
    + json.dumps(
        {
            "version": platform.python_version(),
            "implementation": sys.implementation.name,
            "machine": platform.machine(),
            "tags": [str(tag) for tag in tags.sys_tags()],
        }
    )
)
