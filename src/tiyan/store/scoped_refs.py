"""The references a request names (a unit or staff code, a customer id, a survey), resolved only
within the caller's reach: the other half of tiyan.store.scoped.

A reference outside the caller's units reads exactly as one that does not exist (the same 404,
the same message), so an answer never tells whether another unit's customer, unit or staff member
is there. Each create use case resolves all its references first and writes afterwards.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission, subtree
from tiyan.errors import Forbidden, NotFound
from tiyan.store import tables as t
from tiyan.store.scoped import parent_map, visible

Reach = Permission | tuple[Permission, ...]


def _permissions(reach: Reach) -> tuple[Permission, ...]:
    return reach if isinstance(reach, tuple) else (reach,)


def reach_units(actor: Actor, reach: Reach) -> frozenset[int]:
    """The units where the actor has any of the permissions in full (not only their own rows)."""
    found: frozenset[int] = frozenset()
    for permission in _permissions(reach):
        found |= actor.scope.visibility(permission).unit_ids
    return found


def require_any(actor: Actor, reach: Reach) -> None:
    """403 for a role without any of the permissions anywhere (the same whatever the ids)."""
    if not reach_units(actor, reach):
        names = " or ".join(f"'{p}'" for p in _permissions(reach))
        raise Forbidden(f"you do not have the {names} permission")


def visible_in_reach(actor: Actor, reach: Reach,
                     unit_col: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    return sa.or_(*(visible(actor.scope.visibility(p), unit_col) for p in _permissions(reach)))


def unit_in_reach(conn: Connection, actor: Actor, reach: Reach, code: str,
                  where: str = "unit") -> int:
    """The id of unit `code`, where the actor has one of the permissions."""
    require_any(actor, reach)
    return unit_among(conn, reach_units(actor, reach), code, where)


def unit_among(conn: Connection, units: Collection[int], code: str, where: str = "unit") -> int:
    """The id of unit `code` if it is one of `units` (a filter value, a form field)."""
    found = conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.code == code)).scalar()
    if found is None or int(found) not in units:
        raise NotFound(f'there is no unit "{code}" among your units', where=where)
    return int(found)


def staff_among(conn: Connection, units: Collection[int], code: str,
                where: str = "staff") -> int:
    """The id of staff member `code` if they work at one of `units`."""
    row = conn.execute(sa.select(t.staff.c.id, t.staff.c.unit_id)
                       .where(t.staff.c.code == code)).first()
    if row is None or row.unit_id not in units:
        raise NotFound(f'there is no staff member "{code}" among your units', where=where)
    return int(row.id)


def customer_in_reach(conn: Connection, actor: Actor, reach: Reach, public_id: str,
                      where: str = "customer") -> RowMapping:
    """A customer of a unit where the actor has one of the permissions."""
    require_any(actor, reach)
    row = conn.execute(sa.select(t.customer).where(
        t.customer.c.public_id == public_id,
        visible_in_reach(actor, reach, t.customer.c.unit_id))).mappings().first()
    if row is None:
        raise NotFound(f'there is no customer "{public_id}" among your units', where=where)
    return row


def check_customer_in_reach(actor: Actor, reach: Reach, customer: RowMapping,
                            where: str = "customer") -> None:
    """A customer found by a key the caller supplied (phone, e-mail, external id) who belongs
    to a unit out of reach is neither returned nor changed: the request is refused."""
    if customer["unit_id"] not in reach_units(actor, reach):
        raise Forbidden("this customer key belongs to a customer outside your units; tiyan "
                        "will not attach it to another customer", where=where)


def staff_in_unit(conn: Connection, unit_id: int, code: str, where: str = "staff") -> int:
    """A staff member who works at the unit or a unit below it."""
    return staff_among(conn, subtree(parent_map(conn), unit_id), code, where)


def lineage(conn: Connection, unit_id: int) -> list[int]:
    """The unit and its ancestors, nearest first."""
    return lineage_in(parent_map(conn), unit_id)


def lineage_in(parents: Mapping[int, int | None], unit_id: int) -> list[int]:
    found, current = [unit_id], parents.get(unit_id)
    while current is not None and current not in found:
        found.append(current)
        current = parents.get(current)
    return found


def survey_for_unit(conn: Connection, unit_id: int, *, code: str | None = None,
                    survey_id: int | None = None, where: str = "survey") -> RowMapping:
    """A survey that applies at the unit: one owned by the unit or by one of its ancestors."""
    query = sa.select(t.survey).where(t.survey.c.unit_id.in_(lineage(conn, unit_id)))
    query = query.where(t.survey.c.code == code) if code is not None \
        else query.where(t.survey.c.id == survey_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        name = f'"{code}"' if code is not None else str(survey_id)
        raise NotFound(f"there is no survey {name} for this unit", where=where)
    return row


def units_outside(actor: Actor, reach: Reach, units: Iterable[int | None]) -> set[int]:
    """Those of the units where the actor lacks every one of the permissions."""
    covered = reach_units(actor, reach)
    return {u for u in units if u is not None and u not in covered}


def require_org_wide(actor: Actor, permission: Permission, units: Iterable[int], what: str,
                     where: str | None = None) -> None:
    """An organisation-wide object (a journey and its touchpoints, an item code) is changed
    only by someone whose `permission` covers every unit that uses it: an administrator, or a
    manager granted at a unit above all of them."""
    actor.require(permission)
    if not actor.scope.visibility(permission).covers_all(units):
        raise Forbidden(f"{what} is shared with units outside yours; only someone who manages "
                        "all of them may change it", where=where)


def check_item_codes(conn: Connection, actor: Actor, unit_id: int, codes: Iterable[str],
                     survey_id: int | None = None) -> None:
    """A survey of unit `unit_id` may use the templates' common item codes, codes of surveys
    owned by that unit's ancestors (shared down), and codes used only within the units where
    the actor manages surveys; another unit's item code is refused (403)."""
    from tiyan.domain.survey_templates import standard_item_codes
    from tiyan.store.surveys import item_code_units

    wanted = set(codes) - standard_item_codes()
    above = set(lineage(conn, unit_id))
    for code, units in sorted(item_code_units(conn, wanted, survey_id).items()):
        if units_outside(actor, Permission.MANAGE_SURVEYS, units) - above:
            raise Forbidden(f'item code "{code}" is used by surveys of units outside yours; '
                            "give the question an item code of your own", where="item_code")


def unit_depths(conn: Connection) -> dict[int, int]:
    """How far below the root each unit is (the root: 0)."""
    parents = parent_map(conn)
    return {unit: len(lineage_in(parents, unit)) - 1 for unit in parents}
