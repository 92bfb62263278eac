"""The processes of a cluster, as Redis knows them (``VOICECHAT_REDIS_URL``): each one
writes where its admin endpoints answer, renewed every ``RENEW_S`` and lapsing after
``LAPSE_S``, so the admin API of any process can gather the whole cluster's figures and a
process that died leaves the list by itself."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from typing import Any

from core.store import redis_client

log = logging.getLogger(__name__)

PREFIX = "voicechat:process:"
RENEW_S = 10.0
LAPSE_S = 30.0


class ProcessRegistry:
    def __init__(self, client: Any, own_url: str) -> None:
        """``client``: the process's Redis client (``core.store.redis_client``)."""
        self._errors = redis_client.errors()
        self._client = client
        self.own_id = uuid.uuid4().hex[:12]
        self.own_url = own_url
        self._stop = threading.Event()
        self._announce()
        self._thread = threading.Thread(target=self._renew_loop, name="process-registry", daemon=True)
        self._thread.start()

    def _announce(self) -> None:
        record = {"id": self.own_id, "url": self.own_url, "pid": os.getpid(), "announced_at": time.time()}
        try:
            self._client.set(PREFIX + self.own_id, json.dumps(record), px=int(LAPSE_S * 1000))
        except self._errors as exc:
            log.warning("could not announce this process to the cluster: %s", type(exc).__name__)

    def _renew_loop(self) -> None:
        while not self._stop.wait(RENEW_S):
            self._announce()

    def members(self) -> list[dict[str, Any]]:
        """The processes that announced themselves lately (this one included); [] when
        Redis cannot be reached."""
        try:
            keys = sorted(self._client.scan_iter(match=PREFIX + "*", count=100))
            values = self._client.mget(keys) if keys else []
        except self._errors as exc:
            log.warning("could not list the cluster's processes: %s", type(exc).__name__)
            return []
        return [json.loads(v) for v in values if v is not None]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self._client.delete(PREFIX + self.own_id)
        except self._errors as exc:  # it lapses by itself
            log.debug("could not withdraw this process: %s", type(exc).__name__)
