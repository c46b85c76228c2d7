"""SIGINT/SIGTERM during training: stop at a safe point, never in the middle of a save.

Inside `handle_interrupts()` the first signal is only recorded; training checks `pending()`
after each batch (see `mnist_cli.training.guards`) and stops there, so the epoch-end backup is
never half-written (and is written then, see `mnist_cli.training.backup`). A second signal
stops at once. Outside training a signal raises directly.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


class Interrupted(KeyboardInterrupt):
    """Training stopped by a signal; exit code is 128 + the signal number (130, 143)."""

    def __init__(self, signum: int = signal.SIGINT, message: str | None = None) -> None:
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        self.message = message or f"interrupted by {NAMES.get(self.signum, self.signum)}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class _State:
    pending: int | None = None
    deferring: bool = False
    agree: Callable[[bool], bool] | None = None


def pending() -> int | None:
    """The signal received while deferring, if any."""
    return _State.pending


def check() -> None:
    """Raise `Interrupted` if a signal arrived: called at safe points (batch/epoch ends).
    Inside `agreed`, every process asks the others and all raise at the same point."""
    if _State.agree is not None:
        if _State.agree(_State.pending is not None):  # a collective: every process calls it
            raise Interrupted(_State.pending or signal.SIGINT)  # this one's, or a peer's
        return
    if _State.pending is not None:
        raise Interrupted(_State.pending)


@contextlib.contextmanager
def agreed(agree: Callable[[bool], bool]) -> Iterator[None]:
    """Processes training one model together (multi-worker) stop at the same safe point: a
    worker stopping alone would leave the others waiting in their next all-reduce. Inside,
    `check()` calls `agree(this process has a signal)`, true when any process has one."""
    _State.agree = agree
    try:
        yield
    finally:
        _State.agree = None


def _handler(signum: int, frame: FrameType | None) -> None:
    if _State.deferring and _State.pending is None:
        _State.pending = signum
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def handle_interrupts(defer: bool = True) -> Iterator[None]:
    """Route SIGINT and SIGTERM to `Interrupted` (deferred to a safe point when `defer`)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    previous = {s: signal.signal(s, _handler) for s in NAMES}
    _State.pending, _State.deferring = None, defer
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _State.pending, _State.deferring = None, False
