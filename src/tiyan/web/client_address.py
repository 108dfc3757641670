"""Who is asking: the client's address, believing `X-Forwarded-For` only from trusted proxies.

With `TIYAN_TRUSTED_PROXIES` empty (the default) the direct peer is the client and the header is
ignored. Otherwise, when the peer is a trusted proxy, the header is read from the right (the
hops nearest to tiyan first) and the first address that is not a trusted proxy is the client:
whatever a client writes into the header itself lies to the left of that and is never read.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from fastapi import Request

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


@lru_cache(maxsize=8)
def trusted_networks(spec: str) -> tuple[Network, ...]:
    """TIYAN_TRUSTED_PROXIES (comma-separated addresses or CIDRs) as networks."""
    return tuple(ip_network(part.strip(), strict=False) for part in spec.split(",")
                 if part.strip())


def client_address(request: Request) -> str:
    """The address sign-in limits and the audit log use for this request."""
    spec = request.app.state.ctx.settings.trusted_proxies
    peer = request.client.host if request.client else ""
    return resolve_client(peer, request.headers.getlist("x-forwarded-for"),
                          trusted_networks(spec))


def resolve_client(peer: str, forwarded: list[str], trusted: tuple[Network, ...]) -> str:
    """The right-most address that is not a trusted proxy, starting at the direct peer."""
    nearest = parse_address(peer)
    if nearest is None:
        return peer[:64] or "unknown"
    hops = [hop for header in forwarded for hop in header.split(",")]
    for hop in reversed(hops):
        if not _is_trusted(nearest, trusted):
            break
        parsed = parse_address(hop)
        if parsed is None:  # a hop no proxy of ours wrote: stop at the last one we trust
            break
        nearest = parsed
    return str(nearest)


def _is_trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def parse_address(text: str) -> Address | None:
    """An IPv4 or IPv6 address, also written with a port (`1.2.3.4:5`, `[::1]:5`)."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
