"""The outbound policy (tiyan.channels.outbound): which addresses tiyan may send requests to,
checked again at connection time against a real HTTP server on 127.0.0.1.

The DNS answers for names other than `localhost` come from a resolver given to the policy (the
port DNS plugs into), so a name can answer one address at the check and another later."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.local_http import QuietHandler, serving
from tiyan.channels import outbound
from tiyan.channels.outbound import Policy, Refused

REFUSED = {
    "loopback": ["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1",
                 "2002:7f00:1::1"],
    "private": ["10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "100.127.255.254",
                "fc00::1", "fd12:3456::1", "::ffff:10.0.0.1"],
    "link-local": ["169.254.169.254", "169.254.0.1", "fe80::1", "::ffff:169.254.169.254"],
    "multicast": ["224.0.0.1", "239.255.255.250", "ff02::1"],
    "unspecified": ["0.0.0.0", "0.1.2.3", "::"],
    "reserved": ["240.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1", "2001:db8::1"],
}
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808"]


@pytest.mark.parametrize(("reason", "address"),
                         [(r, a) for r, addresses in REFUSED.items() for a in addresses])
def test_addresses_outside_the_internet_are_refused_by_kind(reason: str, address: str) -> None:
    assert outbound.classify(outbound.ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert outbound.classify(outbound.ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1/", "loopback"), ("http://2130706433/", "loopback"),
    ("http://0x7f.1/", "loopback"), ("http://127.1/", "loopback"),
    ("http://017700000001/", "loopback"), ("http://[::1]:8080/x", "loopback"),
    ("http://[::ffff:7f00:1]/", "loopback"), ("http://localhost/", "loopback"),
    ("http://LOCALHOST./", "loopback"), ("http://api.localhost/", "loopback"),
    ("http://10.0.0.1/", "private"), ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://0.0.0.0:8000/", "unspecified"), ("ftp://example.com/", "scheme"),
    ("file:///etc/passwd", "scheme"), ("gopher://example.com/", "scheme"),
    ("javascript:alert(1)", "scheme"), ("not a url", "scheme"), ("http:///x", "host"),
    ("https://user:pw@example.com/", "credentials"),
])
def test_urls_that_need_no_lookup_are_refused_with_their_reason(url: str, reason: str) -> None:
    with pytest.raises(Refused) as refused:
        outbound.check_url(url, Policy())
    assert refused.value.reason == reason and refused.value.where == "url"


def test_a_name_is_refused_when_any_of_its_addresses_is_not_public() -> None:
    policy = Policy(resolver=lambda host, port: ["93.184.216.34", "10.1.2.3"])
    with pytest.raises(Refused) as refused:
        outbound.check_target("https://hooks.example.test/x", policy, where="target")
    assert (refused.value.reason, refused.value.where) == ("private", "target")
    outbound.check_target("https://hooks.example.test/x",
                          Policy(resolver=lambda host, port: ["93.184.216.34"]))


def test_the_allow_list_takes_names_addresses_and_networks() -> None:
    policy = Policy.parse("sms.corp.local, 10.20.0.0/16 [::1] 127.0.0.1",
                          resolver=lambda host, port: ["10.9.9.9"])
    outbound.check_target("http://SMS.corp.local./send", policy)  # listed by name
    outbound.check_target("http://10.20.3.4/", policy)
    outbound.check_target("http://[::1]:9000/", policy)
    outbound.check_target("http://2130706433/", policy)  # the same address, written as a number
    for url in ("http://10.21.0.1/", "http://other.corp.local/", "http://169.254.169.254/"):
        with pytest.raises(Refused):
            outbound.check_target(url, policy)
    assert outbound.unreadable_entries("ok.example, 10.0.0.0/8, bad/host, x:y") == [
        "bad/host", "x:y"]


@dataclass
class Local:
    url: str = ""
    hosts: list[str] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def local() -> Iterator[Local]:
    state = Local()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length", 0)))
            state.hosts.append(self.headers["host"])
            self.send_response(state.status)
            if state.status == 302:
                self.send_header("location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            self.wfile.write(b"internal secret " * 100)

    with serving(Handler) as base:
        state.url = base
        yield state


def _port(local: Local) -> str:
    return local.url.rsplit(":", 1)[1]


def test_a_name_that_rebinds_to_loopback_after_the_check_is_refused_at_send(local: Local) -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    policy = Policy(resolver=lambda host, port: next(answers))
    url = f"http://hooks.example.test:{_port(local)}/in"
    outbound.check_target(url, policy)  # saved: the name pointed at a public address
    sent = outbound.post(url, policy, timeout=5, headers={}, content=b"{}")
    assert (sent.status_code, sent.error) == (None, "refused: loopback address")
    assert local.hosts == []  # never contacted


def test_the_request_goes_to_the_checked_address_with_the_original_host(local: Local) -> None:
    policy = Policy.parse("10.77.0.0/16", resolver=lambda host, port: ["127.0.0.1"])
    refused = outbound.post(f"http://crm.corp.test:{_port(local)}/in", policy, timeout=5,
                            headers={}, content=b"{}")
    assert refused.error == "refused: loopback address" and local.hosts == []
    allowed = Policy.parse("crm.corp.test", resolver=lambda host, port: ["127.0.0.1"])
    sent = outbound.post(f"http://crm.corp.test:{_port(local)}/in", allowed, timeout=5,
                         headers={}, content=b"{}")
    assert sent.delivered and local.hosts == [f"crm.corp.test:{_port(local)}"]


def test_answers_are_kept_as_a_class_and_redirects_are_not_followed(local: Local) -> None:
    policy = Policy.parse("127.0.0.1")
    local.status = 500
    failed = outbound.post(local.url + "/in", policy, timeout=5, headers={}, content=b"{}")
    assert (failed.status_code, failed.error) == (500, "HTTP 500")  # not the body
    local.status = 302
    moved = outbound.post(local.url + "/in", policy, timeout=5, headers={}, content=b"{}")
    assert (moved.status_code, moved.error) == (302, "HTTP 302") and len(local.hosts) == 2


def test_refused_targets_read_the_same_whether_a_port_is_open_or_closed(local: Local) -> None:
    closed = f"http://127.0.0.1:{_free_port()}/x"
    errors = {outbound.post(url, Policy(), timeout=5, headers={}, content=b"").error
              for url in (local.url + "/x", closed)}
    assert errors == {"refused: loopback address"} and local.hosts == []
    allowed = outbound.post(closed, Policy.parse("127.0.0.1"), timeout=5, headers={},
                            content=b"")
    assert allowed.error == "connection refused"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(("stored", "shown"), [
    ("HTTP 500: <html>internal admin panel, root password hunter2</html>", "HTTP 500"),
    ("HTTP 404", "HTTP 404"),
    ("ConnectError: [Errno 111] Connection refused", "request failed"),
    ("no answer within 10 s", "timeout"), ("refused: private address", "refused: private address"),
    (None, None),
])
def test_stored_errors_show_only_their_class(stored: str | None, shown: str | None) -> None:
    assert outbound.shown_error(stored) == shown


def test_the_sms_gateway_setting_is_checked_without_a_lookup() -> None:
    from pydantic import ValidationError

    from tiyan.settings import Settings

    with pytest.raises(ValidationError, match="loopback"):
        Settings(sms_url="http://127.0.0.1:9000/send")
    with pytest.raises(ValidationError, match="link-local"):
        Settings(sms_url="http://169.254.169.254/")
    with pytest.raises(ValidationError, match="not a host name"):
        Settings(outbound_allowed_hosts="10.0.0.0/33")
    assert Settings(sms_url="http://127.0.0.1:9000/send",
                    outbound_allowed_hosts="127.0.0.1").sms_url
    assert Settings(sms_url="https://sms.example.com/send").sms_url


def test_every_outbound_http_request_goes_through_the_policy() -> None:
    """Only tiyan.channels.outbound speaks HTTP to the outside; every other sender uses it."""
    from tests.unit.core.test_layers import PACKAGE, imported_modules

    clients = ("httpx", "requests", "urllib.request", "http.client", "aiohttp", "urllib3")
    speakers = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                      if any(m.split(".")[0] == c or m == c for m in imported_modules(path)
                             for c in clients))
    assert speakers == ["channels/outbound.py"]


class _KeptAlive(ThreadingHTTPServer):
    """An HTTP/1.1 receiver that counts the connections its requests came on."""

    daemon_threads = True

    def __init__(self, answer: bytes) -> None:
        self.connections: set[tuple[str, int]] = set()
        self.answer = answer
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the http.server naming
                self.rfile.read(int(self.headers.get("content-length", 0)))
                server.connections.add(self.client_address)
                self.send_response(200)
                self.send_header("content-length", str(len(server.answer)))
                self.end_headers()
                self.wfile.write(server.answer)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.mark.parametrize(("answer", "connections"), [
    (b"ok", 1), (b"x" * (outbound.DRAIN_LIMIT + 1), 5)])
def test_a_shared_client_sends_the_next_message_on_the_same_connection(
        answer: bytes, connections: int) -> None:
    """A small answer is read so the connection is kept; a large one is left unread and its
    connection closed (a receiver cannot make the sender read a big body)."""
    server = _KeptAlive(answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        policy = Policy.parse("127.0.0.1")
        url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        with outbound.client(policy, 5) as http:
            sent = [outbound.post(url, policy, timeout=5, headers={}, content=b"{}", http=http)
                    for _ in range(5)]
        assert [s.status_code for s in sent] == [200] * 5
        assert len(server.connections) == connections
    finally:
        server.shutdown()
        server.server_close()
