"""A stand-in for an OpenAI-compatible server on 127.0.0.1 (tests have no network).

It answers just enough of the HTTP API: streamed chat, transcription and speech.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAIHandler(BaseHTTPRequestHandler):
    """Just enough of the OpenAI HTTP API: chat streaming, transcription, speech."""

    status = 200
    redirect = False  # answer every request with a redirect to another path of this server
    seen: list[dict] = []
    keys: list[str] = []  # the bearer token of each request

    def log_message(self, *args: object) -> None:  # keep test output clean
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        FakeOpenAIHandler.keys.append(self.headers.get("Authorization", "").removeprefix("Bearer "))
        if self.redirect and not self.path.startswith("/elsewhere"):
            self.send_response(307)
            self.send_header("Location", "/elsewhere" + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.status != 200:
            self._send(self.status, b'{"error": {"message": "nope"}}', "application/json")
            return
        if self.path.endswith("/chat/completions"):
            FakeOpenAIHandler.seen.append(json.loads(body))
            chunks = [
                {"choices": [{"index": 0, "delta": {"content": piece}}]}
                for piece in ["Paris", " is the", " capital."]
            ]
            envelope = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m"}
            stream = "".join(f"data: {json.dumps({**envelope, **c})}\n\n" for c in chunks)
            stream += "data: [DONE]\n\n"
            self._send(200, stream.encode(), "text/event-stream")
        elif self.path.endswith("/audio/transcriptions"):
            assert b"RIFF" in body  # a WAV file was uploaded
            self._send(200, b'{"text": " hello there "}', "application/json")
        elif self.path.endswith("/audio/speech"):
            self._send(200, b"\x01\x00" * 4801, "application/octet-stream")
        else:
            self._send(404, b"{}", "application/json")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def running_openai_stub() -> Iterator[str]:
    """Serve the stand-in; yields its base URL (``http://127.0.0.1:PORT/v1``)."""
    FakeOpenAIHandler.status = 200
    FakeOpenAIHandler.redirect = False
    FakeOpenAIHandler.seen = []
    FakeOpenAIHandler.keys = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAIHandler)
    thread = threading.Thread(target=server.serve_forever, name="openai-stub", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        FakeOpenAIHandler.status = 200  # the class is shared: leave it as found
        FakeOpenAIHandler.redirect = False
        server.shutdown()
        server.server_close()
        thread.join(5)
