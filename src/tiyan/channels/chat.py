"""Chat-app robots (incoming webhooks): WeCom (企业微信), DingTalk (钉钉), Feishu (飞书) and Slack.

For each app: the JSON body it expects for a title, a text and a link (with @-mentions by mobile
number where the app has them), how a robot with a signing secret (加签) is signed, and how its
answer says whether it took the message. The robots of WeCom, DingTalk and Feishu answer HTTP 200
even when they refuse a message (a wrong signature, a blocked keyword, too many messages), with a
code in the JSON body: `refusal()` turns that into an error, so a refused message is retried and
shown as failed instead of logged as sent.

- WeCom: no signing; mentions by mobile in a `text` message (`mentioned_mobile_list`; its
  markdown messages cannot mention). Answer: `{"errcode": 0, "errmsg": "ok"}`.
- DingTalk: signing adds `timestamp` (ms) and `sign` = Base64(HMAC-SHA256(secret,
  "timestamp\\nsecret")) to the URL; mentions by mobile (`at.atMobiles`, and "@mobile" in the
  text). Answer: `{"errcode": 0, ...}`.
- Feishu: signing adds `timestamp` (s) and `sign` = Base64(HMAC-SHA256(key "timestamp\\nsecret",
  empty message)) to the body; a custom robot cannot mention by mobile (it needs Feishu user
  ids), so mentions are not sent. Answer: `{"code": 0, ...}` (older robots: `StatusCode`).
- Slack: no signing (the URL is the secret), no mentions; answers `ok` as plain text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote_plus

from tiyan.channels.outbound import robot_refusal

APPS = ("wecom", "dingtalk", "feishu", "slack")
SIGNED = frozenset({"dingtalk", "feishu"})  # apps whose robots may have a signing secret
MENTIONS = frozenset({"wecom", "dingtalk"})  # apps that mention by mobile number
ANSWER_BYTES = 2048  # how much of a robot's answer is read to find its code


def wecom(title: str, text: str, link: str, mentions: Sequence[str] = ()) -> dict[str, Any]:
    if mentions:
        return {"msgtype": "text", "text": {"content": f"{title}\n{text}\n{link}",
                                            "mentioned_mobile_list": list(mentions)}}
    return {"msgtype": "markdown",
            "markdown": {"content": f"**{title}**\n{text}\n[{link}]({link})"}}


def dingtalk(title: str, text: str, link: str, mentions: Sequence[str] = ()) -> dict[str, Any]:
    at = "".join(f" @{m}" for m in mentions)
    return {"msgtype": "markdown",
            "markdown": {"title": title, "text": f"### {title}\n{text}\n\n[{link}]({link}){at}"},
            "at": {"atMobiles": list(mentions), "isAtAll": False}}


def feishu(title: str, text: str, link: str, mentions: Sequence[str] = ()) -> dict[str, Any]:
    return {"msg_type": "post", "content": {"post": {"zh_cn": {
        "title": title,
        "content": [[{"tag": "text", "text": text}], [{"tag": "a", "text": link, "href": link}]],
    }}}}


def slack(title: str, text: str, link: str, mentions: Sequence[str] = ()) -> dict[str, Any]:
    return {"text": f"{title}\n{text}\n<{link}>",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn",
                                                    "text": f"*{title}*\n{text}\n<{link}>"}}]}


PAYLOADS: Mapping[str, Callable[..., dict[str, Any]]] = {
    "wecom": wecom, "dingtalk": dingtalk, "feishu": feishu, "slack": slack,
}


def _hmac_base64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def signed(app: str, url: str, payload: dict[str, Any], secret: str | None,
           now: float | None = None) -> tuple[str, dict[str, Any]]:
    """The URL and body to send to a robot with signing secret `secret` (none: unchanged)."""
    if not secret or app not in SIGNED:
        return url, payload
    moment = time.time() if now is None else now
    if app == "dingtalk":
        stamp = str(int(moment * 1000))
        sign = _hmac_base64(secret.encode(), f"{stamp}\n{secret}".encode())
        joiner = "&" if "?" in url else "?"
        return f"{url}{joiner}timestamp={stamp}&sign={quote_plus(sign)}", payload
    stamp = str(int(moment))
    sign = _hmac_base64(f"{stamp}\n{secret}".encode(), b"")
    return url, {"timestamp": stamp, "sign": sign, **payload}


def refusal(app: str, answer: bytes) -> str | None:
    """The error a robot's answer (HTTP 2xx) carries, or None when it took the message. Only
    the robot's numeric code is kept: no text from the far side reaches the delivery log."""
    if app == "slack":
        return None if answer.strip() in (b"ok", b"") else robot_refusal(-1)
    try:
        found = json.loads(answer.decode("utf-8", "replace") or "{}")
    except ValueError:
        return "invalid answer"
    if not isinstance(found, dict):
        return "invalid answer"
    key = "code" if app == "feishu" and "code" in found else (
        "StatusCode" if app == "feishu" else "errcode")
    code = found.get(key, 0)
    if not isinstance(code, int) or isinstance(code, bool):
        return "invalid answer"
    return None if code == 0 else robot_refusal(code)
