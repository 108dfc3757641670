"""Where a request came from, for the audit of reads and exports (tiyan.services.audit_trail)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tiyan.services.audit_trail import Origin
from tiyan.web.client_address import client_address


def request_origin(request: Request) -> Origin:
    """A page or the API (/api/…), and the client's address (behind a trusted proxy, the one it
    forwarded for: see tiyan.web.client_address)."""
    via = "api" if request.url.path.startswith("/api/") else "page"
    return Origin(via, client_address(request))


OriginDep = Annotated[Origin, Depends(request_origin)]
