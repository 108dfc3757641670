"""JSON request bodies nested deeper than tiyan.domain.json_depth.MAX_DEPTH are refused (422,
where "body") before a route parses them: one check for every endpoint that takes JSON.

Without it a body some thousand levels deep made the parser give up (a 400 that said nothing
useful) and one a few hundred levels deep could be stored in a survey definition that then
could not be read back.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiyan.domain.json_depth import MAX_DEPTH, too_deep_at
from tiyan.web.errors import error_body


class JsonDepthLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        # latin-1 maps each byte to one character: brackets, quotes and backslashes stay put
        place = too_deep_at(body.decode("latin-1"))
        if place is not None:
            refusal = JSONResponse(error_body(
                "invalid_input", f"the JSON body is nested deeper than {MAX_DEPTH} levels "
                                 f"(at byte {place + 1})", "body"), status_code=422)
            await refusal(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return False


async def _read_body(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    body = bytearray()
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    return messages, bytes(body)
