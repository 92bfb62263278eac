"""The server's side of a load test: is it reachable at all, and its CPU and memory from
``/metrics.json`` (admin token) every couple of seconds while the sessions run."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urlsplit

from monitoring.loadtest.stats import MAX_SAMPLES

POLL_S = 2.0
HTTP_TIMEOUT_S = 2.0
REACH_TIMEOUT_S = 5.0


class ServerUnreachable(RuntimeError):
    """Nothing answers at the URL's host and port: the run cannot start."""


class TokenRefused(RuntimeError):
    pass


def host_port(ws_url: str) -> tuple[str, int]:
    parts = urlsplit(ws_url)
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "wss" else 80)


def http_base(ws_url: str) -> str:
    """ws://host:port/ws/voice -> http://host:port (wss -> https)."""
    parts = urlsplit(ws_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return f"{scheme}://{parts.netloc}"


async def check_reachable(ws_url: str) -> None:
    """A plain TCP connect, so an absent server is one clear message, not N failed sessions."""
    host, port = host_port(ws_url)
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), REACH_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ServerUnreachable(f"cannot reach {host}:{port} ({reason}); is the server running?") from exc
    writer.close()
    await writer.wait_closed()


@dataclass(frozen=True)
class ServerSample:
    t_s: float  # since the run started (negative: before it)
    cpu_percent: float
    rss_bytes: int


class ServerWatch:
    """Polls ``GET /metrics.json`` with the admin token (a worker thread per request, so
    the event loop never waits on HTTP); a refused token is said once and polling stops."""

    def __init__(self, ws_url: str, token: str, log: TextIO | None = sys.stderr) -> None:
        self.url = http_base(ws_url) + "/metrics.json"
        self.token = token
        self.log = log
        self.samples: deque[ServerSample] = deque(maxlen=MAX_SAMPLES)
        self.before: ServerSample | None = None
        self.after: ServerSample | None = None
        self.failures = 0
        self.note: str | None = None if token else "not collected (no --admin-token)"
        # No proxy: the figures must come from the server under test itself.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def enabled(self) -> bool:
        return bool(self.token) and self.note is None

    def _fetch(self) -> dict[str, Any] | None:
        request = urllib.request.Request(self.url, headers={"Authorization": f"Bearer {self.token}"})
        try:
            with self._opener.open(request, timeout=HTTP_TIMEOUT_S) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise TokenRefused(f"HTTP {exc.code}") from exc
            return None
        except (urllib.error.URLError, OSError, ValueError):
            return None  # counted by the caller; a busy server may miss a poll

    async def sample(self, t0: float, keep: bool = True) -> ServerSample | None:
        """One reading; ``keep`` puts it in the series (not the ones before and after)."""
        if not self.enabled:
            return None
        try:
            snapshot = await asyncio.to_thread(self._fetch)
        except TokenRefused as exc:
            self.note = f"not collected: the admin token was refused ({exc})"
            if self.log is not None:
                print(f"loadtest: {self.url}: admin token refused ({exc}); going on without "
                      "server figures", file=self.log)
            return None
        try:
            process = snapshot["process"]  # type: ignore[index]
            found = ServerSample(round(time.monotonic() - t0, 2), float(process["cpu_percent"]),
                                 int(process["rss_bytes"]))
        except (KeyError, TypeError, ValueError):  # no answer, or not the snapshot we know
            self.failures += 1
            return None
        if keep:
            self.samples.append(found)
        return found

    async def poll(self, t0: float) -> None:
        """Until cancelled (by the run, when its sessions are over)."""
        while self.enabled:
            await asyncio.sleep(POLL_S)
            await self.sample(t0)

    def figures(self) -> dict[str, Any]:
        # The first reading of psutil's cpu_percent covers an unknown stretch: only the
        # readings during the run count.
        cpu = [s.cpu_percent for s in self.samples]
        rss = [s.rss_bytes for s in self.samples]
        rss += [s.rss_bytes for s in (self.before, self.after) if s is not None]
        collected = bool(cpu) or self.before is not None
        note = self.note
        if note is None and not collected:
            note = f"not collected: {self.url} did not answer"
        return {
            "collected": collected,
            "note": note,
            "cpu_percent": {"mean": round(sum(cpu) / len(cpu), 1) if cpu else None,
                            "max": round(max(cpu), 1) if cpu else None},
            "rss_bytes": {"before": self.before.rss_bytes if self.before else None,
                          "after": self.after.rss_bytes if self.after else None,
                          "max": max(rss) if rss else None},
            "failed_polls": self.failures,
            "samples": [{"t_s": s.t_s, "cpu_percent": s.cpu_percent, "rss_bytes": s.rss_bytes}
                        for s in self.samples],
        }
