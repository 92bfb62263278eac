"""JSON from a peer, read with limits: a number of more than ``MAX_NUMBER_CHARS``
characters or a NaN/Infinity is refused as malformed (``ValueError``) before Python
turns it into an object (a 4,300-digit integer otherwise raises from inside the parser,
and a million-digit one costs seconds of CPU)."""

from __future__ import annotations

import json
from typing import Any

MAX_NUMBER_CHARS = 40


class JsonTextError(ValueError):
    """The text is not JSON this server reads."""


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonTextError(f"a number longer than {MAX_NUMBER_CHARS} characters")
    return int(text)


def _real(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonTextError(f"a number longer than {MAX_NUMBER_CHARS} characters")
    return float(text)


def _constant(name: str) -> Any:
    raise JsonTextError(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """``json.loads`` with the limits above; every failure is a ``JsonTextError``."""
    try:
        return json.loads(text, parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except JsonTextError:
        raise
    except (ValueError, RecursionError, TypeError) as exc:  # JSONDecodeError is a ValueError
        raise JsonTextError("not valid JSON") from exc
