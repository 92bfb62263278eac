"""The tests' one way to wait for something that another thread does: never a sleep.

With the ``condition`` that guards the state (and is notified when it changes), the
wait wakes on the change; without one, the predicate is checked every few milliseconds.
Either way the test fails with ``what`` once ``timeout`` seconds have passed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

POLL_S = 0.005


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition",
               condition: threading.Condition | None = None) -> None:
    if condition is not None:
        with condition:
            if condition.wait_for(predicate, timeout):
                return
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        pause.wait(POLL_S)
