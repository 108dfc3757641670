"""Why a delivery failed, in words of the reader's language: every stored outbound class, a
robot's refusal with its code, an HTTP status and the SMTP exceptions deliver_email stores; what
the far side wrote never reaches the page."""

import re

import pytest

from tiyan.channels import outbound
from tiyan.web.i18n import Translator
from tiyan.web.ui.delivery_words import delivery_error

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"\b(?!HTTP\b|tiyan\b|http\b|s\b)[A-Za-z]{3,}\b")
STORED = [*sorted(outbound.ERROR_CLASSES), "refused by the robot (code 93000)",
          "refused by the robot (code -1)", "HTTP 503", "HTTP 500: <html>secret</html>",
          "ConnectionRefusedError: [Errno 111] Connection refused",
          "gaierror: [Errno -2] Name or service not known", "TimeoutError: timed out",
          "SMTPRecipientsRefused: {'x@y.test': (550, b'no such user')}",
          "SMTPAuthenticationError: (535, b'5.7.8 bad credentials')",
          "SMTPDataError: (554, b'5.7.1 spam')", "OSError: [Errno 101] Network is unreachable",
          "something nobody expected: <script>"]


@pytest.mark.parametrize("stored", STORED)
def test_every_stored_error_reads_in_chinese_without_english_words(stored: str) -> None:
    words = delivery_error(Translator("zh-CN"), stored)
    assert words and CJK.search(words) and not LATIN_WORD.search(words), words


@pytest.mark.parametrize("stored", STORED)
def test_nothing_the_far_side_wrote_is_shown(stored: str) -> None:
    words = delivery_error(Translator("en"), stored) or ""
    for leaked in ("Errno", "secret", "spam", "credentials", "no such user", "<", "Error"):
        assert leaked not in words, words


def test_codes_and_statuses_are_kept_and_no_error_is_none() -> None:
    en, zh = Translator("en"), Translator("zh-CN")
    assert delivery_error(en, "refused by the robot (code 93000)") == \
        "the robot refused the message (code 93000)"
    assert delivery_error(zh, "refused by the robot (code 310000)") == \
        "机器人拒收了消息（错误码 310000）"
    assert delivery_error(en, "HTTP 503") == "the receiver answered HTTP 503"
    assert delivery_error(en, "SMTPDataError: (554, b'5.7.1 spam')") == \
        "the mail server refused the message (code 554)"
    assert delivery_error(en, "ConnectionRefusedError: [Errno 111] Connection refused") == \
        "the receiver refused the connection"
    assert delivery_error(en, "refused: loopback address") == delivery_error(
        en, "refused: not an http(s) address")
    assert delivery_error(en, None) is None and delivery_error(en, "") is None
