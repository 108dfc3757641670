"""Where a request came from, for the audit of reads and exports (tiyan.services.audit_trail)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tiyan.services.audit_trail import Origin


def request_origin(request: Request) -> Origin:
    """A page or the API (/api/…), and the client's address."""
    via = "api" if request.url.path.startswith("/api/") else "page"
    return Origin(via, request.client.host if request.client else None)


OriginDep = Annotated[Origin, Depends(request_origin)]
