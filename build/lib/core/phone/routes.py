"""Phone calls over Twilio: the incoming-call webhook and the media stream's WebSocket.

``POST /twilio/voice`` answers Twilio's incoming-call webhook with TwiML that connects
the call to ``/twilio/media`` (a bidirectional ``<Connect><Stream>``), passing a per-call
token as a stream parameter (``core.phone.call_tokens``: single use, expiring, under a key
derived from the Twilio auth token when one is set, so several processes agree). The
media socket accepts a call only with an unspent token, so a stream that did not come
through the webhook, or comes a second time, gets no session. The routes exist only
with ``VOICECHAT_PHONE_ENABLED``. With ``VOICECHAT_TWILIO_AUTH_TOKEN`` set, both the
webhook and the socket's handshake must also carry Twilio's ``X-Twilio-Signature``
(checked with the twilio library's ``RequestValidator``: the URL, the sorted form
fields, HMAC-SHA1, with and without the port). Setup: docs/phone.md.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Connect, VoiceResponse

from core.phone.call import PhoneCall
from core.phone.call_tokens import CallTokens, caller_key
from core.runtime import VoiceRuntime
from core.settings import Settings
from core.transport.client_address import client_address
from core.transport.socket_io import CLOSE_POLICY, refuse
from core.transport.websocket import SingleThreadServer
from core.transport.websocket_route import SingleThreadSock

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/twilio/voice"
MEDIA_PATH = "/twilio/media"
CALL_TOKEN_PARAMETER = "call_token"
SIGNATURE_HEADER = "X-Twilio-Signature"
CALL_SID = re.compile(r"^CA[0-9A-Za-z]{1,64}$")
MAX_WEBHOOK_BYTES = 64 * 1024


def call_key(settings: Settings) -> bytes:
    """The key of the per-call tokens: from the auth token if set, else this process's own."""
    if settings.twilio_auth_token:
        return hashlib.sha256(b"voicechat call token\0" + settings.twilio_auth_token.encode()).digest()
    return secrets.token_bytes(32)


def public_url(settings: Settings, request_url: str) -> str:
    """The URL Twilio requested (and signed): the public base, if set, with this path."""
    if not settings.phone_public_url:
        return request_url
    parts = urlsplit(request_url)
    return settings.phone_public_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def stream_url(settings: Settings, host: str) -> str:
    """Where Twilio connects the call's audio: wss on the public host (ws for a plain http
    base, which only a local test uses: Twilio itself takes wss only)."""
    base = settings.phone_public_url.rstrip("/") or f"https://{host}"
    scheme, rest = base.split("://", 1)
    return ("ws" if scheme == "http" else "wss") + "://" + rest + MEDIA_PATH


def twiml(stream: str, token: str, unavailable_text: str) -> str:
    """Connect the call to the media stream. The ``<Say>`` after it is reached only when
    the app closes the stream itself (full, or failed); a hang-up ends the call first."""
    response = VoiceResponse()
    connect = Connect()
    connect.stream(url=stream).parameter(name=CALL_TOKEN_PARAMETER, value=token)
    response.append(connect)
    response.say(unavailable_text)
    return str(response)


def install_phone_routes(app: Flask, runtime: VoiceRuntime) -> None:
    settings = runtime.settings
    tokens = CallTokens(call_key(settings))
    validator = RequestValidator(settings.twilio_auth_token) if settings.twilio_auth_token else None
    sock = SingleThreadSock(app)

    def signed(url: str, params: object) -> bool:
        if validator is None:
            return True
        return validator.validate(url, params, request.headers.get(SIGNATURE_HEADER, ""))

    @app.post(WEBHOOK_PATH)
    def incoming_call() -> Response:
        if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
            return Response("request too large", status=413, mimetype="text/plain")
        if not signed(public_url(settings, request.url), request.form):
            runtime.metrics.count("refused_phone_signature")
            log.warning("incoming call refused: no valid Twilio signature")
            return Response("invalid signature", status=403, mimetype="text/plain")
        call_sid = request.form.get("CallSid", "")
        if not CALL_SID.match(call_sid):
            return Response("CallSid missing or malformed", status=400, mimetype="text/plain")
        runtime.metrics.count("phone_webhooks")
        caller = caller_key(request.form.get("From", ""), client_address(request.environ),
                            number_vouched=validator is not None)
        body = twiml(stream_url(settings, request.host), tokens.issue(call_sid, caller),
                     settings.phone_unavailable_text)
        return Response(body, mimetype="text/xml")

    @sock.route(MEDIA_PATH)
    def media_stream(ws: SingleThreadServer) -> None:
        # Twilio sends no Origin; a browser always does, and has no business here.
        if request.headers.get("Origin"):
            runtime.metrics.count("refused_origin")
            refuse(ws, CLOSE_POLICY, "origin_not_allowed", "This endpoint is for Twilio media streams.")
            return
        if not signed(stream_url(settings, request.host), {}):
            runtime.metrics.count("refused_phone_signature")
            refuse(ws, CLOSE_POLICY, "invalid_signature", "No valid Twilio signature.")
            return
        PhoneCall(ws, runtime, tokens.redeem).serve()
