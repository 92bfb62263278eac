"""What the core records for the admin page and ``/metrics``, as an interface.

The core only ever calls these methods; ``monitoring.metrics.monitor`` implements them
(cheaply: a lock and an append), so no module of ``core`` imports ``monitoring``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping


class Metrics(ABC):
    @abstractmethod
    def count(self, name: str, n: int = 1) -> None:
        """Add to a named counter (``error:<code>`` counts an error of that code)."""

    @abstractmethod
    def record_turn(self, timings: Mapping[str, float], session_id: str | None = None,
                    channel: str = "browser") -> None:
        """A finished reply and its stage timings (docs/protocol.md, ``timings``)."""

    @abstractmethod
    def record_barge_in(self, ms: float) -> None:
        """How long playback took to stop after the person started talking over it."""

    @abstractmethod
    def session_opened(self) -> None: ...

    @abstractmethod
    def session_closed(self) -> None: ...

    def sample_if_due(self) -> None:
        """Called often by the runtime's ticker: aggregate when it is time (optional)."""

    def turn_taking(self, event: str, channel: str) -> None:
        """How the turn-taking went, once per ``event`` (``TURN_TAKING_EVENTS``) on a
        channel (``browser``, ``phone``)."""
        self.count(f"turn_taking:{channel}:{event}")


# What the turn-taking figures count (the admin page and /metrics show them by channel).
TURN_TAKING_EVENTS = (
    "barge_in",  # the person talked over a reply and it stopped
    "talked_over_early",  # ... within a second of the reply's first sound: likely taken too early
    "false_interruption",  # a noise stopped a reply, which then went on
    "backchannel_kept",  # "mhm" over a reply, which went on
    "short_answer",  # a one- or two-word answer ("yes", "no thanks") heard and answered
)


class NoMetrics(Metrics):
    """Records nothing: for tools and tests that do not look at the figures."""

    def count(self, name: str, n: int = 1) -> None:
        return None

    def record_turn(self, timings: Mapping[str, float], session_id: str | None = None,
                    channel: str = "browser") -> None:
        return None

    def record_barge_in(self, ms: float) -> None:
        return None

    def session_opened(self) -> None:
        return None

    def session_closed(self) -> None:
        return None
