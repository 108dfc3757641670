"""Ready payloads for chat-app incoming webhooks: WeCom (企业微信), DingTalk (钉钉), Feishu (飞书)
and Slack. Each takes a title, a text and a link and returns the JSON body that app expects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def wecom(title: str, text: str, link: str) -> dict[str, Any]:
    return {"msgtype": "markdown",
            "markdown": {"content": f"**{title}**\n{text}\n[{link}]({link})"}}


def dingtalk(title: str, text: str, link: str) -> dict[str, Any]:
    return {"msgtype": "markdown",
            "markdown": {"title": title, "text": f"### {title}\n{text}\n\n[{link}]({link})"}}


def feishu(title: str, text: str, link: str) -> dict[str, Any]:
    return {"msg_type": "post", "content": {"post": {"zh_cn": {
        "title": title,
        "content": [[{"tag": "text", "text": text}], [{"tag": "a", "text": link, "href": link}]],
    }}}}


def slack(title: str, text: str, link: str) -> dict[str, Any]:
    return {"text": f"{title}\n{text}\n<{link}>",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn",
                                                    "text": f"*{title}*\n{text}\n<{link}>"}}]}


PAYLOADS: Mapping[str, Callable[[str, str, str], dict[str, Any]]] = {
    "wecom": wecom, "dingtalk": dingtalk, "feishu": feishu, "slack": slack,
}
