"""Path and query parameters shared by the API routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ID = 2**62  # row ids are 64-bit integers in both databases; larger ones cannot exist

RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="row id")]
