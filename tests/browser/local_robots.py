"""Local chat robots for browser tests: an HTTP server on 127.0.0.1 that answers as a WeCom,
DingTalk or Feishu robot does (tests.integration.test_chat_robots.Robot checks the signature and
refuses with the app's error code), and the app started with 127.0.0.1 allowed as a target."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import local_http
from tests.browser.conftest import running_server
from tests.integration.test_chat_robots import Robot

PATHS = {"dingtalk": "/robot/send?access_token=k3y", "wecom": "/cgi-bin/webhook/send?key=k3y",
         "feishu": "/open-apis/bot/v2/hook/k3y"}


@contextmanager
def serving(robot: Robot) -> Iterator[Robot]:
    """`robot` answering on a port of its own; its url is set to its app's usual path."""

    class Handler(local_http.QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            answer = json.dumps(robot.verdict(parse_qs(parts.query), body)).encode()
            self.send_response(200)  # robots say no with HTTP 200 and an error code
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(answer)

    with local_http.serving(Handler) as base:
        robot.url = f"{base}{PATHS[robot.app]}"
        yield robot


@contextmanager
def app_allowed_local_robots(db_url: str, log: Path) -> Iterator[str]:
    """`tiyan serve` on `db_url`, allowed to post to robots on 127.0.0.1; its address."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TIYAN_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1")
        with running_server(db_url, log) as base:
            yield base
