"""Where tiyan may send HTTP requests: one policy for webhooks, chat-app notifications and the
SMS gateway, so that none of them can be pointed at tiyan's own network (SSRF).

A target is refused when its scheme is not http(s), when it carries a user name or password, or
when its host is, or resolves to, an address that is loopback, private (RFC 1918, CGNAT
100.64/10, IPv6 ULA fc00::/7), link-local (169.254/16 with the cloud metadata address,
fe80::/10), multicast, unspecified or otherwise not globally routable — also when written as a
number (`http://2130706433/`) or wrapped in IPv6 (`::ffff:127.0.0.1`, NAT64, 6to4, Teredo).
An administrator lists on-premises targets in TIYAN_OUTBOUND_ALLOWED_HOSTS: host names as they
appear in URLs, or IP addresses and networks.

Addresses are checked when a URL is saved and again on every request: `client()` gives an httpx
client whose transport resolves the host once, checks every address, connects to the checked
one (keeping the Host header and TLS server name) and never follows redirects, so a DNS answer
that changes between the check and the connection cannot slip through. Refused targets are never
contacted, and the outcome of a request is kept as a short class (`error_class`): never the
answer's body or the network error's text.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from tiyan.errors import InvalidInput, Phrase

if TYPE_CHECKING:
    from tiyan.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

# Why an address is refused; the words are the error catalogue's outbound.reason.*
REASONS = ("scheme", "credentials", "host", "loopback", "private", "link-local", "multicast",
           "unspecified", "reserved")
_PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")


class Refused(InvalidInput):
    """A target tiyan may not send to; `reason` is one of REASONS' keys."""

    def __init__(self, reason: str, url: str, *, where: str = "url") -> None:
        super().__init__("outbound.refused", url=url[:200],
                         reason=Phrase(f"outbound.reason.{reason}"), where=where)
        self.reason = reason

    @property
    def error_class(self) -> str:
        """What the delivery log keeps, e.g. `refused: private address`."""
        if self.reason in ("scheme", "credentials", "host"):
            return "refused: not an http(s) address"
        return f"refused: {self.reason} address"


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system gives for `host` (raises OSError when none)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True)
class Policy:
    """Hosts and networks an administrator allows although they are not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def parse(cls, text: str, resolver: Resolver = system_resolver) -> Policy:
        """From the setting: host names, addresses and networks separated by commas or spaces."""
        entries = _entries(text)
        networks = tuple(n for n in map(_network, entries) if n is not None)
        hosts = frozenset(_host_key(e) for e in entries if _network(e) is None)
        return cls(hosts, networks, resolver)

    def allows_host(self, host: str) -> bool:
        return _host_key(host) in self.hosts

    def allows_address(self, address: Address) -> bool:
        return any(address in network for network in self.networks)


def _entries(text: str) -> list[str]:
    return [entry for entry in re.split(r"[,\s]+", text.strip()) if entry]


def unreadable_entries(text: str) -> list[str]:
    """Entries of the allow-list setting that are neither a host name nor an address/network."""
    return [entry for entry in _entries(text)
            if not _HOST_NAME.fullmatch(entry) and _network(entry) is None]


def _network(entry: str) -> Network | None:
    try:
        return ipaddress.ip_network(entry.strip("[]"), strict=False)
    except ValueError:
        return None


def _host_key(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def classify(address: Address) -> str | None:
    """Why tiyan may not send to `address` (a REASONS key), or None for a public address."""
    address = _embedded_ipv4(address) or address
    if address.is_unspecified or address in _THIS_NETWORK:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if any(address in network for network in _PRIVATE):
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4, Teredo client)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    teredo = address.teredo
    return address.ipv4_mapped or address.sixtofour or (teredo[1] if teredo else None)


def literal_address(host: str) -> Address | None:
    """The address a host written as a number stands for (`127.0.0.1`, `[::1]`, `2130706433`,
    `0x7f.1`), as the operating system reads it; None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if not re.fullmatch(r"[0-9a-fA-FxX.]+", host) or not host[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def parse_url(url: str, *, where: str = "url") -> httpx.URL:
    """An http(s) URL with a host and no credentials, else Refused."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise Refused("scheme", url, where=where) from None
    if parsed.scheme not in ("http", "https"):
        raise Refused("scheme", url, where=where)
    if not parsed.raw_host:
        raise Refused("host", url, where=where)
    if parsed.userinfo:
        raise Refused("credentials", url, where=where)
    return parsed


def check_url(url: str, policy: Policy, *, where: str = "url") -> httpx.URL:
    """The checks that need no network: the scheme, credentials, a host written as an address
    and the name `localhost`. Used for settings, where nothing is looked up."""
    parsed = parse_url(url, where=where)
    host = parsed.raw_host.decode("ascii")
    if policy.allows_host(host):
        return parsed
    address = literal_address(host)
    if address is not None:
        _check_addresses(url, [address], policy, where)
    elif _host_key(host) == "localhost" or _host_key(host).endswith(".localhost"):
        raise Refused("loopback", url, where=where)
    return parsed


def check_target(url: str, policy: Policy, *, where: str = "url") -> None:
    """Check a URL being saved: `check_url`, then every address its host resolves to now. A
    name that does not resolve is accepted here; it is checked again on every request."""
    parsed = parse_url(url, where=where)
    host = parsed.raw_host.decode("ascii")
    if policy.allows_host(host):
        return
    try:
        addresses = _resolve(parsed, policy)
    except OSError:
        check_url(url, policy, where=where)
        return
    _check_addresses(url, addresses, policy, where)


def pinned_address(url: httpx.URL, policy: Policy) -> str:
    """The one address a request to `url` may connect to: resolved now and checked (Refused),
    or OSError when the host does not resolve."""
    parse_url(str(url))
    addresses = _resolve(url, policy)
    if not policy.allows_host(url.raw_host.decode("ascii")):
        _check_addresses(str(url), addresses, policy, "url")
    return str(addresses[0])


def _resolve(url: httpx.URL, policy: Policy) -> list[Address]:
    host = url.raw_host.decode("ascii")
    address = literal_address(host)
    if address is not None:
        return [address]
    port = url.port or (443 if url.scheme == "https" else 80)
    found = [ipaddress.ip_address(a.split("%")[0]) for a in policy.resolver(host, port)]
    if not found:
        raise OSError(f"{host} has no address")
    return found


def _check_addresses(url: str, addresses: Iterable[Address], policy: Policy,
                     where: str) -> None:
    for address in addresses:
        reason = None if policy.allows_address(address) else classify(address)
        if reason is not None:
            raise Refused(reason, url, where=where)


class HostNotFound(httpx.ConnectError):
    """The target's host name did not resolve."""


class PinnedTransport(httpx.HTTPTransport):
    """Resolves the host of each request once, checks the addresses against the policy and
    connects to the checked address, keeping the Host header and the TLS server name."""

    def __init__(self, policy: Policy) -> None:
        super().__init__(trust_env=False, verify=_tls_context())
        self.policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            address = pinned_address(request.url, self.policy)
        except Refused:
            raise
        except (OSError, ValueError) as exc:
            raise HostNotFound("host not found", request=request) from exc
        host = request.url.raw_host.decode("ascii")
        request.url = request.url.copy_with(host=address)
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return super().handle_request(request)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The certificate store and TLS settings every client shares: made once per process (it
    reads the CA bundle: about 30 ms, which each batch of deliveries paid before)."""
    return httpx.create_ssl_context(trust_env=False)


Client = httpx.Client  # what `client` makes: the type callers name, without importing httpx


def client(policy: Policy, timeout: float) -> httpx.Client:
    """An httpx client for outbound requests: the policy checked on each request, no
    redirects followed, no proxies or credentials taken from the environment."""
    return httpx.Client(transport=PinnedTransport(policy), timeout=timeout,
                        follow_redirects=False, trust_env=False)


@dataclass(frozen=True)
class Outcome:
    """How one request went: a status code, and a short error class unless it was a 2xx."""

    status_code: int | None
    error: str | None
    answer: bytes = b""  # the start of the answer's body, when the caller asked for it

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, policy: Policy, *, timeout: float, headers: dict[str, str],
         content: bytes | None = None, data: dict[str, str] | None = None,
         http: httpx.Client | None = None, read_answer: int = 0) -> Outcome:
    """POST once to a checked target; never raises for network trouble or a refusal. The
    answer's body is not read, except its first `read_answer` bytes when asked (a chat robot
    says in its body whether it took the message). `http` (made by `client` with the same
    policy) keeps its connections open for the next request, as a batch of deliveries wants."""
    body = b""
    try:
        with contextlib.ExitStack() as stack:
            sender = http or stack.enter_context(client(policy, timeout))
            with sender.stream("POST", url, content=content, data=data,
                               headers=headers) as answer:
                code = answer.status_code
                if read_answer:
                    for chunk in answer.iter_bytes():
                        body += chunk
                        if len(body) >= read_answer:
                            break
                elif http is not None:
                    _drain(answer, time.monotonic() + timeout)
    except (Refused, httpx.HTTPError, httpx.InvalidURL) as exc:
        return Outcome(None, error_class(exc))
    return Outcome(code, None if 200 <= code < 300 else f"HTTP {code}", body[:read_answer])


DRAIN_LIMIT = 64 * 1024  # an answer body up to this size is read so its connection is kept


def _drain(answer: httpx.Response, deadline: float) -> None:
    """Read a small answer's body (declared length up to DRAIN_LIMIT, within the request's
    timeout in all) so the shared client may send the next message on the same connection;
    a larger or slower answer is left unread and its connection closed."""
    try:
        length = int(answer.headers.get("content-length", ""))
    except ValueError:
        return
    if length > DRAIN_LIMIT:
        return
    try:
        for _ in answer.iter_raw():
            if time.monotonic() > deadline:
                return
    except httpx.HTTPError:
        return  # the status code is the answer; a broken body only costs the connection


def error_class(exc: Exception) -> str:
    """A short, fixed description of why a request failed: no text from the far side."""
    if isinstance(exc, Refused):
        return exc.error_class
    if isinstance(exc, HostNotFound):
        return "host not found"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in str(exc).lower() else "connection failed"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "invalid answer"
    return "request failed"


STORED_HTTP = re.compile(r"HTTP (\d{3})\b")
NOT_CONFIGURED = "not configured"
ERROR_CLASSES = frozenset({"timeout", "connection refused", "connection failed", "host not found",
                           "invalid answer", "request failed", "refused: not an http(s) address",
                           NOT_CONFIGURED, *(f"refused: {r} address" for r in REASONS)})


ROBOT_REFUSAL = re.compile(r"refused by the robot \(code (-?\d{1,12})\)")


def robot_refusal(code: object) -> str:
    """How a chat robot's refusal (an error code in an HTTP 200 answer) is stored."""
    return f"refused by the robot (code {code})"


def shown_error(stored: str | None) -> str | None:
    """What a delivery log shows of a stored error: the class as written now, or, for errors
    stored before (which kept up to 200 characters of the answer), only its status code."""
    if not stored or stored in ERROR_CLASSES or ROBOT_REFUSAL.fullmatch(stored):
        return stored
    status = STORED_HTTP.match(stored)
    if status:
        return f"HTTP {status.group(1)}"
    if "timeout" in stored.lower() or "no answer within" in stored:
        return "timeout"
    return "request failed"


def policy_for(settings: Settings) -> Policy:
    """The policy TIYAN_OUTBOUND_ALLOWED_HOSTS sets."""
    return Policy.parse(settings.outbound_allowed_hosts)
