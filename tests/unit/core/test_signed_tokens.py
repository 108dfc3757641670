from __future__ import annotations

import pytest

from tiyan.security import BadSignature, read_token, sign_token

KEY = b"k" * 32


def test_a_signed_token_reads_back_its_payload():
    token = sign_token({"i": "abc", "e": 1_800_000_000, "name": "张三 😀"}, KEY)
    assert read_token(token, KEY) == {"i": "abc", "e": 1_800_000_000, "name": "张三 😀"}


@pytest.mark.parametrize("tamper", [
    lambda tok: tok[:-1] + ("A" if tok[-1] != "A" else "B"),
    lambda tok: "x" + tok,
    lambda tok: tok.split(".")[0],
    lambda tok: "",
    lambda tok: "..",
    lambda tok: "é." + tok.split(".")[1],
    lambda tok: tok * 100,
])
def test_a_changed_or_truncated_token_is_refused(tamper):
    token = sign_token({"i": "abc"}, KEY)
    with pytest.raises(BadSignature):
        read_token(tamper(token), KEY)


def test_a_token_signed_with_another_key_is_refused():
    with pytest.raises(BadSignature):
        read_token(sign_token({"i": "abc"}, b"other"), KEY)
