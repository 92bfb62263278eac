"""Per-call tokens: the webhook issues one, the media stream spends it.

A token ties one media stream to one webhook request: it names the CallSid, who is
calling (a digest of Twilio's ``From``, or the webhook's client address when nothing
vouches for the number), when it expires (seconds after issue; Twilio opens the stream
within one or two) and a random nonce, all under an HMAC. It is spent the first time a
stream presents it: a second stream with the same token, a token of another call, or a
token past its time gets no session. Spent nonces are remembered until their tokens
expire, so the memory is bounded by the webhook rate times the lifetime; past a cap no
more tokens are taken until some expire (refusing a call is safer than forgetting one).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_TTL_S = 30.0
MAX_REMEMBERED = 10_000
VERSION = "v1"


@dataclass(frozen=True)
class Redeemed:
    call_sid: str
    caller: str  # whom the call counts against: "tel:<digest>" or "addr:<address>"


def caller_key(number: str, address: str, number_vouched: bool) -> str:
    """Whom a call counts against in the per-address limit: the calling number when
    Twilio's signature vouches for it (every call comes from Twilio's own addresses),
    else the address that asked for the call."""
    if number_vouched and number:
        return "tel:" + hashlib.sha256(number.encode()).hexdigest()[:16]
    return "addr:" + address


class CallTokens:
    def __init__(self, key: bytes, ttl_s: float = TOKEN_TTL_S,
                 clock: Callable[[], float] = time.time, max_remembered: int = MAX_REMEMBERED) -> None:
        self._key = key
        self._ttl_s = ttl_s
        self._clock = clock
        self._max = max_remembered
        self._spent: OrderedDict[str, float] = OrderedDict()  # nonce -> expiry, oldest first
        self._lock = threading.Lock()

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    def issue(self, call_sid: str, caller: str) -> str:
        expires = int(self._clock() + self._ttl_s)
        body = ".".join((VERSION, call_sid, str(expires), secrets.token_hex(12), caller))
        return f"{body}.{self._sign(body)}"

    def redeem(self, call_sid: str, token: object) -> Redeemed | None:
        """The call's identity if ``token`` is valid for ``call_sid`` and not spent yet
        (it is spent now); None otherwise."""
        if not isinstance(token, str) or len(token) > 512:
            return None
        body, _, signature = token.rpartition(".")
        parts = body.split(".", 4)
        if len(parts) != 5 or parts[0] != VERSION or not parts[2].isdigit():
            return None
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        _, token_call_sid, expires_text, nonce, caller = parts
        now = self._clock()
        if token_call_sid != call_sid or int(expires_text) < now:
            return None
        with self._lock:
            self._forget_expired(now)
            if nonce in self._spent or len(self._spent) >= self._max:
                return None
            self._spent[nonce] = float(expires_text)
        return Redeemed(call_sid, caller)

    def _forget_expired(self, now: float) -> None:
        while self._spent:
            nonce, expiry = next(iter(self._spent.items()))
            if expiry >= now:
                return
            del self._spent[nonce]
