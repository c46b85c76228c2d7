"""A deadline for calls that block forever in C++ while holding the GIL.

`MultiWorkerMirroredStrategy()` waits for every peer to join, holding the GIL and ignoring
SIGTERM, so no Python thread or signal handler can end it. The port probe before it catches
peers that are not there; this catches the rest (a peer that answered the probe and then
died, or something on its port that is not a TensorFlow worker). Two pieces that need no GIL:
a helper process prints the error when the time is up, and `faulthandler`'s C watchdog exits
the process with code 1 a moment later. Nothing has been written yet, so that is safe.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import subprocess
import sys
from collections.abc import Iterator

# Sleeps, then prints the error unless its parent has gone (it is then re-parented).
HELPER = ("import os, sys, time\n"
          "parent = os.getppid()\n"
          "time.sleep(float(sys.argv[1]))\n"
          "if os.getppid() == parent:\n"
          "    sys.stderr.write('error: ' + sys.argv[2] + '\\n')\n")
GRACE_S = 1.0  # between the message and the exit


@contextlib.contextmanager
def deadline(seconds: float, message: str) -> Iterator[None]:
    """Print `message` and exit the process with code 1 if the block outlives `seconds`."""
    helper = subprocess.Popen([sys.executable, "-c", HELPER, str(seconds), message],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    with open(os.devnull, "w") as devnull:  # the users get the message, not a stack dump
        faulthandler.dump_traceback_later(seconds + GRACE_S, exit=True, file=devnull)
        try:
            yield
        finally:
            faulthandler.cancel_dump_traceback_later()
            helper.kill()
            helper.wait()
