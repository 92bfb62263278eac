"""Who a request comes from, as far as limits per address are concerned.

Behind a reverse proxy or tunnel every request arrives from the proxy's address, so all
people would share one address's limits. ``X-Forwarded-For`` names the real client, but
anyone can send that header: it is believed only when the request comes from a proxy
the operator listed (``VOICECHAT_TRUSTED_PROXIES``), and then read from the right, past
the listed proxies, to the first address no trusted proxy added.

An IPv6 client usually holds a whole /64 and can pick a new address in it for every
connection; per-address limits therefore count IPv6 clients by their /64.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

ENVIRON_KEY = "voicechat.client_address"
IPV6_GROUP_PREFIX = 64
MAX_FORWARDED_HOPS = 16

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def trusted_networks(spec: str) -> tuple[Network, ...]:
    """``VOICECHAT_TRUSTED_PROXIES``: addresses or networks, comma-separated (checked
    when the settings are read)."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec.split(",") if item.strip())


def _parse(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_group(address: Address) -> str:
    """The key limits count by: an IPv4 address, or an IPv6 address's /64."""
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((address, IPV6_GROUP_PREFIX), strict=False)
        return str(network)
    return str(address)


class ClientAddresses:
    def __init__(self, trusted: tuple[Network, ...]) -> None:
        self._trusted = trusted

    def _is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self._trusted)

    def client(self, environ: Mapping[str, Any]) -> str:
        """The real client's address group, or "?" when the peer's address is unreadable."""
        peer = _parse(str(environ.get("REMOTE_ADDR") or ""))
        if peer is None:
            return "?"
        if self._trusted and self._is_trusted(peer):
            forwarded = str(environ.get("HTTP_X_FORWARDED_FOR") or "")
            hops = [hop for hop in forwarded.split(",") if hop.strip()][-MAX_FORWARDED_HOPS:]
            for hop in reversed(hops):
                address = _parse(hop)
                if address is None:
                    break  # a malformed entry: believe nothing left of it
                peer = address
                if not self._is_trusted(address):
                    break
        return address_group(peer)


def client_address(environ: Mapping[str, Any]) -> str:
    """The address group the HTTP guards found for this request (see ``install_http_guards``)."""
    found = environ.get(ENVIRON_KEY)
    if isinstance(found, str):
        return found
    peer = _parse(str(environ.get("REMOTE_ADDR") or ""))
    return "?" if peer is None else address_group(peer)
