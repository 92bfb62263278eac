"""A bug met by a long-lived loop (a socket's reader, a send thread, the ticker): it is
logged once per place and kind with its traceback, counted, and the loop goes on.

Each loop then does what is right for it: tell its client ``internal_error``, skip the
message, or close its session cleanly. Never silence, never a dead thread.
"""

from __future__ import annotations

import logging

from core.metrics import Metrics

log = logging.getLogger(__name__)

INTERNAL_ERROR = "internal_error"
INTERNAL_ERROR_MESSAGE = "Something went wrong on the server."
MAX_KINDS_REMEMBERED = 64


class BugLog:
    def __init__(self, metrics: Metrics, where: str) -> None:
        self._metrics = metrics
        self._where = where
        self._seen: set[str] = set()
        self.count = 0

    def report(self, exc: BaseException) -> None:
        """Count ``exc`` (``error:internal``); log it in full the first time it is seen here."""
        self.count += 1
        self._metrics.count("error:internal")
        kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
        if kind in self._seen:
            log.debug("%s: %s again (%d so far)", self._where, kind, self.count)
            return
        if len(self._seen) < MAX_KINDS_REMEMBERED:
            self._seen.add(kind)
        log.error("%s: unexpected %s; carrying on", self._where, kind, exc_info=exc)
