"""Which address a request comes from: X-Forwarded-For is read only from trusted proxies."""

import pytest

from tiyan.settings import load_settings
from tiyan.web.client_address import resolve_client, trusted_networks

PROXIES = trusted_networks("10.0.0.0/8, 127.0.0.1, fd00::/8")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # no trusted proxy in front: the header is the client's own words and is ignored
        ("203.0.113.7", ["1.2.3.4"], "203.0.113.7"),
        ("203.0.113.7", ["127.0.0.1, 10.0.0.1"], "203.0.113.7"),
        # one trusted proxy: the right-most untrusted address is the client
        ("10.0.0.5", ["198.51.100.9"], "198.51.100.9"),
        ("10.0.0.5", ["6.6.6.6, 198.51.100.9"], "198.51.100.9"),  # 6.6.6.6 written by the client
        ("127.0.0.1", ["6.6.6.6", "198.51.100.9, 10.0.0.7"], "198.51.100.9"),  # two headers
        ("10.0.0.5", ["198.51.100.9:51234"], "198.51.100.9"),  # with a port
        ("10.0.0.5", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("fd00::1", ["2001:db8::2"], "2001:db8::2"),
        ("::ffff:10.0.0.5", ["198.51.100.9"], "198.51.100.9"),  # IPv4-mapped peer
        # only proxies: the left-most of them
        ("10.0.0.5", ["10.0.0.9, 10.0.0.8"], "10.0.0.9"),
        # the proxy passed something that is not an address: stop at the proxy we trust
        ("10.0.0.5", ["<script>, unknown"], "10.0.0.5"),
        ("10.0.0.5", ["198.51.100.9, bogus"], "10.0.0.5"),
        ("10.0.0.5", [""], "10.0.0.5"),
        ("10.0.0.5", [], "10.0.0.5"),
        # a peer that is not an address (the test client) is taken as it is
        ("testclient", ["1.2.3.4"], "testclient"),
        ("", ["1.2.3.4"], "unknown"),
    ],
)
def test_the_client_is_the_right_most_address_not_a_trusted_proxy(peer, forwarded, client):
    assert resolve_client(peer, forwarded, PROXIES) == client


def test_without_trusted_proxies_a_loopback_peer_cannot_name_another_client():
    for spoofed in (["1.1.1.1"], ["1.1.1.1, 127.0.0.1"], ["::1"]):
        assert resolve_client("127.0.0.1", spoofed, trusted_networks("")) == "127.0.0.1"


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "localhost", "1.2.3", "10.0.0.0/8,,nope"])
def test_a_trusted_proxy_setting_that_is_not_an_address_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match="not an address or CIDR"):
        load_settings(trusted_proxies=bad)
