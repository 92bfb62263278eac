"""Errors that cross the layers."""

from __future__ import annotations


class ClientError(ValueError):
    """Something a client sent or asked for that cannot be done (a malformed message, a
    setting out of range, an address it may not use). ``code`` is the error code the
    client is told (docs/protocol.md); the message says what was wrong in plain words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
