"""The address a request came from, believing X-Forwarded-For only from our own proxies.

Sign-in lockouts, rate limits, objections and access records all key on this address, so a
client must not be able to choose it: REMOTE_ADDR is the answer unless it is one of the
ANJU_TRUSTED_PROXIES, and then the right-most forwarded address that is not itself a proxy
(the left part of the header is whatever the client sent).
"""

import logging
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.http import HttpRequest

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(p, strict=False) for p in proxies)


def _is_proxy(address: str, networks) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, or None when the server was not told one."""
    remote = request.META.get("REMOTE_ADDR") or None
    networks = _networks(tuple(getattr(settings, "ANJU_TRUSTED_PROXIES", ())))
    if remote is None or not _is_proxy(remote, networks):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if _is_proxy(hop, networks):
            continue
        try:
            return str(ip_address(hop))
        except ValueError:
            # Our proxy passed on something that is not an address: count the proxy itself
            # rather than let a client name an arbitrary key.
            log.warning("X-Forwarded-For from trusted proxy %s holds %r", remote, hop)
            return remote
    return remote
