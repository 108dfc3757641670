"""Why a delivery failed, in the reader's language: the stored error of a notification or a
test message (an outbound class such as "timeout", a chat robot's refusal with its code, an HTTP
status, or an SMTP exception as "Name: text") becomes a sentence of the catalogue's
delivery.error.* family. Nothing the far side wrote reaches the page; a stored text this does
not recognise reads as "the request failed"."""

from __future__ import annotations

import re

from tiyan.channels import outbound
from tiyan.web.i18n import Translator

_SMTP_CODE = re.compile(r"\((\d{3}),")


def _word_of_class(stored_class: str) -> str:
    """The catalogue word (delivery.error.<word>) of an outbound error class: every refused
    address is one word, the others their class written snake_case."""
    return "not_allowed" if stored_class.startswith("refused: ") \
        else stored_class.replace(" ", "_")


_CLASSES = {c: _word_of_class(c) for c in outbound.ERROR_CLASSES}
# SMTP and socket exceptions, as deliver_email stores them ("ConnectionRefusedError: …")
_MAIL = {"ConnectionRefusedError": "connection_refused", "gaierror": "host_not_found",
         "TimeoutError": "timeout", "timeout": "timeout",
         "SMTPRecipientsRefused": "mail_recipient", "SMTPSenderRefused": "mail_sender",
         "SMTPAuthenticationError": "mail_sign_in", "SMTPNotSupportedError": "mail_refused",
         "SMTPServerDisconnected": "connection_failed", "SMTPConnectError": "connection_failed",
         "SMTPDataError": "mail_refused", "SMTPHeloError": "mail_refused",
         "SMTPResponseException": "mail_refused"}


def delivery_error(t: Translator, stored: str | None) -> str | None:
    """The stored error of a delivery in words (None when there was none)."""
    if not stored:
        return None
    if stored in _CLASSES:
        return t(f"delivery.error.{_CLASSES[stored]}")
    robot = outbound.ROBOT_REFUSAL.fullmatch(stored)
    if robot:
        return t("delivery.error.robot_refused", code=robot.group(1))
    name, _, rest = stored.partition(":")
    if name in _MAIL:
        code = _SMTP_CODE.search(rest)
        if _MAIL[name] == "mail_refused" and code:
            return t("delivery.error.mail_refused_code", code=code.group(1))
        return t(f"delivery.error.{_MAIL[name]}")
    if name.endswith("Error") and name.isidentifier():  # another OSError of the connection
        return t("delivery.error.connection_failed")
    status = outbound.STORED_HTTP.match(stored)
    if status:
        return t("delivery.error.http", status=status.group(1))
    return t("delivery.error.request_failed")
