"""Runs a wheelferry container's command, and ends it when its client is gone.

The client (wheelferry on the host) attaches to this container's stdin and writes a byte every
couple of seconds. When the client dies by any means (SIGKILL, a lost SSH session, a closed
laptop lid), its end of the socket closes or falls silent: the command's whole process group is
then stopped, this process exits, and the engine removes the container (it was created with
auto-removal). When no byte ever arrives (an engine that does not attach stdin), nothing is
watched. The command's exit code is printed as the last line, since an auto-removed container
cannot be asked for it afterwards.

    python3 watchdog.py COMMAND [ARG ...]
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time

EXIT_MARKER = "WHEELFERRY-EXIT "
SILENCE = 20.0  # seconds without a heartbeat after which the client counts as gone


def stop(child: subprocess.Popen[bytes]) -> None:
    if sys.platform == "win32":  # pragma: no cover - containers are Linux
        child.kill()
        return
    for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)


def watch(child: subprocess.Popen[bytes]) -> None:
    stdin = sys.stdin.fileno()
    heard = False
    last = time.monotonic()
    while child.poll() is None:
        ready, _, _ = select.select([stdin], [], [], 1.0)
        if ready:
            data = os.read(stdin, 4096)
            if not data:  # the client's end closed
                if heard:
                    break
                return  # stdin was never attached: nothing to watch
            heard, last = True, time.monotonic()
        elif heard and time.monotonic() - last > SILENCE:
            break
    if child.poll() is None:
        print("wheelferry: the client is gone; stopping", file=sys.stderr, flush=True)
        stop(child)
        os._exit(137)


def main() -> int:
    child = subprocess.Popen(sys.argv[1:], start_new_session=True, stdin=subprocess.DEVNULL)
    threading.Thread(target=watch, args=(child,), daemon=True).start()
    code = child.wait()
    # On a line of its own, even after output that did not end one.
    print(f"\n{EXIT_MARKER}{code}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
