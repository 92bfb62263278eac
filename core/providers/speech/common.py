"""What both speech-to-speech APIs' readers share: audio carried as base64 text, and the
events for a message the app does not use or cannot read."""

from __future__ import annotations

import base64
from dataclasses import dataclass


@dataclass(frozen=True)
class Other:
    """A known-good message of a kind this app does not use (counted, no harm)."""

    kind: str


@dataclass(frozen=True)
class Malformed:
    """A message that could not be read: logged, counted, and the receiver goes on."""

    reason: str


def pcm16(text: object) -> bytes:
    """PCM16 from base64 text; ``ValueError`` (or ``TypeError``) when it is not that."""
    if not isinstance(text, str):
        raise TypeError("audio is not a string")
    pcm = base64.b64decode(text, validate=True)  # (binascii.Error is a ValueError)
    if len(pcm) % 2:
        raise ValueError("an odd number of bytes")
    return pcm
