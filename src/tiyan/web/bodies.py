"""Request bodies, read on the event loop as dependencies, so that every handler that touches
the database is a plain function run in the thread pool.

A web request holds its transaction (and on SQLite the one writer lock) from its first write
until its answer starts; a handler that wrote on the event loop thread would stop the loop, and
with it the request that holds the lock, while it waits (see tiyan.store.db)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData


async def posted_form(request: Request) -> FormData:
    return await request.form()


async def posted_bytes(request: Request) -> bytes:
    return await request.body()


PostedForm = Annotated[FormData, Depends(posted_form)]
PostedBytes = Annotated[bytes, Depends(posted_bytes)]
