"""Opening one load-test session's socket, as a browser would but without its extras (no
compression, no client pings: the server's own heartbeat is what is under test)."""

from __future__ import annotations

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidURI

CLOSE_TIMEOUT_S = 2.0
MAX_MESSAGE_BYTES = 1 << 20


class CouldNotConnect(Exception):
    """The server could not be reached (the message says how)."""


async def dial(url: str, timeout_s: float) -> ClientConnection:
    """Raises ``CouldNotConnect``."""
    try:
        return await connect(url, open_timeout=timeout_s, close_timeout=CLOSE_TIMEOUT_S, ping_interval=None,
                             compression=None, max_size=MAX_MESSAGE_BYTES, proxy=None,
                             user_agent_header="voicechat-loadtest")
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
        raise CouldNotConnect(f"could not connect ({type(exc).__name__})") from exc
