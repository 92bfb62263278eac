"""What every HTTP request and response of the server goes through: the Host check
(DNS rebinding, see ``core.transport.hosts``), who the client is (behind trusted proxies,
``core.transport.client_address``), a body size limit, and the headers that
keep the page from being framed, sniffed or made to run injected script.

The Content-Security-Policy allows scripts from this server only, plus the few inline
scripts Dash writes into its index page (its config is JSON, not script; the renderer
start-up and the clientside callbacks are), each allowed by its SHA-256, computed from
the page actually sent, so a change in Dash cannot silently open the policy.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache

from flask import Flask, Response, request

from core.metrics import Metrics
from core.transport.client_address import ENVIRON_KEY, ClientAddresses
from core.transport.hosts import HostPolicy

MAX_REQUEST_BYTES = 1024 * 1024  # Dash's callbacks send a few kB; nothing here needs more
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)
NOT_SCRIPT_TYPES = (b"application/json",)

BASE_POLICY = (
    "default-src 'self'",
    "style-src 'self' 'unsafe-inline'",  # Dash and Ant Design set styles inline everywhere
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
}


@lru_cache(maxsize=8)
def content_security_policy(inline_hashes: tuple[str, ...]) -> str:
    scripts = " ".join(["'self'", *(f"'sha256-{h}'" for h in inline_hashes)])
    return "; ".join((*BASE_POLICY, f"script-src {scripts}"))


def inline_script_hashes(html: bytes) -> tuple[str, ...]:
    """The SHA-256 (base64) of each inline script in a page, in order, JSON blocks left out."""
    hashes = []
    for match in INLINE_SCRIPT.finditer(html):
        if any(kind in match.group("attrs") for kind in NOT_SCRIPT_TYPES):
            continue
        digest = hashlib.sha256(match.group("body")).digest()
        hashes.append(base64.b64encode(digest).decode("ascii"))
    return tuple(dict.fromkeys(hashes))


def install_http_guards(app: Flask, hosts: HostPolicy, metrics: Metrics,
                        addresses: ClientAddresses) -> None:
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @app.before_request
    def known_host_only() -> Response | None:
        request.environ[ENVIRON_KEY] = addresses.client(request.environ)
        if hosts.host_allowed(request.headers.get("Host")):
            return None
        metrics.count("refused_host")
        return Response("This server does not answer to that name (see VOICECHAT_ALLOWED_HOSTS).",
                        status=421, mimetype="text/plain")

    @app.after_request
    def protective_headers(response: Response) -> Response:
        for name, value in FIXED_HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html" and not response.direct_passthrough:
            hashes = inline_script_hashes(response.get_data())
            response.headers["Content-Security-Policy"] = content_security_policy(hashes)
        return response
