"""Which names this server answers to, and which pages may open its sockets.

A DNS-rebinding page points a name it controls (``rebind.example``) at 127.0.0.1: the
browser then sends ``Host: rebind.example:8050`` *and* ``Origin: http://rebind.example:8050``,
so an Origin that merely matches the Host proves nothing. The Host itself must be one
this server is known by: a localhost name, an IP address (a rebinding page cannot make
the browser send an address it does not own as a name), or a name the operator
configured (``VOICECHAT_ALLOWED_HOSTS``, and the host of ``VOICECHAT_PHONE_PUBLIC_URL``).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from core.settings import Settings

LOCAL_NAMES = ("localhost",)


def host_name(host_header: str) -> str:
    """The name in a Host header, without the port, lower case (``[::1]:80`` → ``::1``)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """The Host and Origin checks of every request and socket."""

    def __init__(self, settings: Settings) -> None:
        names = {n.strip().lower().rstrip(".") for n in settings.allowed_hosts.split(",") if n.strip()}
        if settings.phone_public_url:
            names.add(host_name(urlsplit(settings.phone_public_url).netloc))
        self.names = frozenset(names)
        self.origins = frozenset(settings.origin_allow_list)

    def host_allowed(self, host_header: str | None) -> bool:
        name = host_name(host_header or "")
        if not name:
            return False
        if name in LOCAL_NAMES or name.endswith(".localhost") or is_ip_address(name):
            return True
        return name in self.names

    def origin_allowed(self, origin: str | None, host_header: str) -> bool:
        """Browsers always send Origin: it must be this page's own (same host and port,
        the host allowed) or a configured origin. Clients that are not browsers (the
        benchmark, the load tester, Twilio) send none: Origin protects browser users from
        other sites, it is not authentication."""
        if origin is None:
            return True
        origin = origin.strip().rstrip("/")
        if origin in self.origins:
            return True
        netloc = urlsplit(origin).netloc.lower()
        return bool(netloc) and netloc == host_header.strip().lower() and self.host_allowed(netloc)
