"""Define and remove the organisation's composite indices (users who manage surveys; audited)."""

from __future__ import annotations

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.indices import IndexDefinition, check_definition, parse_item_lines
from tiyan.errors import NotFound
from tiyan.store import audit
from tiyan.store import indices as store


def list_indices(ctx: Context) -> list[IndexDefinition]:
    with ctx.db.read() as conn:
        return store.load(conn)


def do_save_index(ctx: Context, actor: Actor | None, code: str, name_zh: str, name_en: str,
                  items: str) -> IndexDefinition:
    """Create the index, or replace the one with this code. `items`: lines of
    `item_code weight [min max]`; a missing scale is taken from the surveys."""
    if actor is not None:
        actor.require(Permission.MANAGE_SURVEYS)
    lines = parse_item_lines(items)
    now = ctx.now()
    with ctx.db.write() as conn:
        scales = store.item_scales(conn, [line.item for line in lines if line.scale is None])
        definition = check_definition(code, name_zh, name_en, lines, scales)
        existing = store.load(conn)
        replaced = any(d.code == definition.code for d in existing)
        store.store(conn, [definition if d.code == definition.code else d for d in existing]
                    + ([] if replaced else [definition]), now)
        audit.record(conn, at=now, user_id=actor.user_id if actor else None,
                     action="index.update" if replaced else "index.create", entity="index",
                     entity_id=definition.code, detail=definition.to_json())
    return definition


def do_delete_index(ctx: Context, actor: Actor, code: str) -> None:
    actor.require(Permission.MANAGE_SURVEYS)
    now = ctx.now()
    with ctx.db.write() as conn:
        existing = store.load(conn)
        if not any(d.code == code for d in existing):
            raise NotFound("indices.no_index", code=code, where="code")
        store.store(conn, [d for d in existing if d.code != code], now)
        audit.record(conn, at=now, user_id=actor.user_id, action="index.delete",
                     entity="index", entity_id=code)
