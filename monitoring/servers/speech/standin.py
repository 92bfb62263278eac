"""A stand-in speech-to-speech API on 127.0.0.1, served from a thread of this process.

``SpeechStandIn("openai-realtime")`` or ``("gemini-live")`` answers every turn with
``voice.answer_audio`` streamed at ``pace`` times real time (what the real APIs do: they
generate faster than the audio plays), with its transcript alongside. ``plan(fault)``
makes the next answer misbehave. What the client sent is recorded for tests: message
types, cancels, truncations, and when each answer's first audio left.
"""

from __future__ import annotations

import threading
from collections import deque

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from monitoring.servers.speech.faults import Fault
from monitoring.servers.speech.gemini_script import GeminiScript
from monitoring.servers.speech.openai_script import OpenAIScript
from monitoring.servers.speech.script import Record

SCRIPTS = {"openai-realtime": OpenAIScript, "gemini-live": GeminiScript}


class SpeechStandIn:
    def __init__(self, dialect: str, pace: float = 4.0, reply_s: float = 2.0) -> None:
        self.dialect = dialect
        self._script = SCRIPTS[dialect]
        self.pace = pace
        self.reply_s = reply_s
        self.go_away = False
        self.record = Record()
        self._faults: deque[Fault] = deque(maxlen=64)
        self._lock = threading.Lock()
        self._numbers = 0
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/v1/realtime" if self.dialect == "openai-realtime" else (
            f"ws://127.0.0.1:{port}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent")

    def start(self) -> SpeechStandIn:
        self._server = serve(self._serve, "127.0.0.1", 0, max_size=2**24)
        self._thread = threading.Thread(target=self._server.serve_forever, name="speech-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SpeechStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def plan(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def take_all_faults(self) -> None:
        """Forget the faults planned and not met."""
        with self._lock:
            self._faults.clear()

    def take_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def next_number(self) -> int:
        with self._lock:
            self._numbers += 1
            return self._numbers

    def _serve(self, ws: ServerConnection) -> None:
        with self._lock:
            self.record.connections += 1
        script = self._script(self, ws)
        script.opened()
        try:
            while not script.dropped:
                try:
                    message = ws.recv(timeout=0.005 if script.answer is not None else 0.2)
                except TimeoutError:
                    message = None
                if message is not None:
                    script.take(message)
                script.step()
        except ConnectionClosed:
            return
