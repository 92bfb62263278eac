"""The turn model (``core.audio.turn_model``) for every session of the process, on its own
small pool: a verdict takes ~50 ms of one core and is wanted before the transcript, so it
must not queue behind transcriptions. A verdict that cannot be had (the model failed, or
the pool is full) is None: the words and the silence decide alone."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from core.audio.turn_model import TurnModel
from core.session.workers import FairExecutor

log = logging.getLogger(__name__)

PER_SESSION = 2  # the pending end's verdict, and one for an end just dropped


class EndJudge:
    def __init__(self, model: TurnModel, workers: int = 1, backlog: int = 64) -> None:
        self._model = model
        self._pool = FairExecutor(workers, backlog, "turn-ends", PER_SESSION)

    @classmethod
    def load(cls, path: Path, workers: int = 1) -> EndJudge:
        judge = cls(TurnModel(path), workers)
        judge._model.finished(np.zeros(1600, np.int16))  # (the first run allocates)
        return judge

    def judge(self, audio: bytes, on_verdict: Callable[[float | None], None], *,
              owner: Hashable) -> Future[None]:
        """Raises ``Overloaded`` when the pool is full."""

        def run() -> None:
            try:
                probability: float | None = self._model.finished(np.frombuffer(audio, np.int16))
            except (RuntimeError, ValueError) as exc:  # onnxruntime's failures are RuntimeErrors
                log.warning("turn model failed: %s: %s", type(exc).__name__, exc)
                probability = None
            on_verdict(probability)

        return self._pool.submit(owner, run)

    def shutdown(self) -> None:
        self._pool.shutdown()
