"""Installation-wide values kept in the database."""

from __future__ import annotations


def test_the_signing_key_is_created_once_and_shared(ctx):
    from tiyan.context import Context

    first = ctx.signing_key()
    other_process = Context(type(ctx.db)(ctx.db.url), ctx.settings, ctx.clock)
    try:
        assert other_process.signing_key() == first and len(first) >= 32
    finally:
        other_process.db.dispose()
