"""The references a request names (a unit or staff code, a customer id, a survey), resolved only
within the caller's reach: the other half of tiyan.store.scoped.

A reference outside the caller's units reads exactly as one that does not exist (the same 404,
the same message), so an answer never tells whether another unit's customer, unit or staff member
is there. Each create use case resolves all its references first and writes afterwards.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission, subtree
from tiyan.domain.contacts import DEFAULT_REGION, refs_by_form
from tiyan.domain.transaction_rows import CustomerRef
from tiyan.errors import Forbidden, NotFound, Phrase
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
        raise Forbidden("scoped_refs.you_do_not_permission", names=names)


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
        raise NotFound("scoped_refs.no_unit_among_your", code=code, where=where)
    return int(found)


def staff_among(conn: Connection, units: Collection[int], code: str,
                where: str = "staff") -> int:
    """The id of staff member `code` if they work at one of `units`."""
    row = conn.execute(sa.select(t.staff.c.id, t.staff.c.unit_id)
                       .where(t.staff.c.code == code)).first()
    if row is None or row.unit_id not in units:
        raise NotFound("scoped_refs.no_staff_member_among", code=code, where=where)
    return int(row.id)


def customer_in_reach(conn: Connection, actor: Actor, reach: Reach, public_id: str,
                      where: str = "customer") -> RowMapping:
    """A customer of a unit where the actor has one of the permissions."""
    require_any(actor, reach)
    row = conn.execute(sa.select(t.customer).where(
        t.customer.c.public_id == public_id,
        visible_in_reach(actor, reach, t.customer.c.unit_id))).mappings().first()
    if row is None:
        raise NotFound("scoped_refs.no_customer_among_your", public_id=public_id, where=where)
    return row


def check_customer_in_reach(actor: Actor, reach: Reach, customer: RowMapping,
                            where: str = "customer") -> None:
    """A customer found by a key the caller supplied (phone, e-mail, external id) who belongs
    to a unit out of reach is neither returned nor changed: the request is refused."""
    if customer["unit_id"] not in reach_units(actor, reach):
        raise Forbidden("scoped_refs.customer_key_belongs_customer", where=where)


IMPORTERS = (Permission.VIEW_CUSTOMERS, Permission.IMPORT_FEEDBACK)
_KEY_CHUNK = 500


@dataclass(frozen=True)
class CustomerKeys:
    """Customers named by keys in bulk (an import's customer column: external id, public id, or
    an identity such as a phone or e-mail however it is written), only among the customers the
    importer may see and import for (the system, with no actor: all). A key of a customer
    outside them reads exactly as an unknown key."""

    found: Mapping[str, tuple[CustomerRef, ...]]  # key -> candidates, oldest first
    parents: Mapping[int, int | None]

    def at(self, key: str, unit_id: int | None) -> CustomerRef | None:
        """The customer `key` names for a record of unit `unit_id`: the oldest candidate whose
        unit lies on that unit's branch (the unit itself, one below it or one above it), so a
        record never points at a customer of a sibling unit; with no unit, the oldest."""
        for ref in self.found.get(key, ()):
            if unit_id is None or _one_branch(self.parents, ref.unit_id, unit_id):
                return ref
        return None


def _one_branch(parents: Mapping[int, int | None], a: int, b: int) -> bool:
    return a in lineage_in(parents, b) or b in lineage_in(parents, a)


def customer_keys(conn: Connection, actor: Actor | None, keys: Iterable[str],
                  region: str = DEFAULT_REGION) -> CustomerKeys:
    """The customers `keys` name, among those `actor` may see and import for (`CustomerKeys`)."""
    forms = refs_by_form(keys, region)
    if not forms:
        return CustomerKeys({}, {})
    found: dict[str, list[CustomerRef]] = {}
    for cid, unit_id, value in sorted(_key_matches(conn, actor, sorted(forms))):
        for key in forms[value]:
            refs = found.setdefault(key, [])
            if all(ref.id != cid for ref in refs):
                refs.append(CustomerRef(cid, unit_id))
    return CustomerKeys({k: tuple(v) for k, v in found.items()}, parent_map(conn))


def _key_matches(conn: Connection, actor: Actor | None,
                 wanted: list[str]) -> set[tuple[int, int, str]]:
    """(customer id, unit id, the form matched) of the customers in reach with one of the forms
    as public id, external id or identity value."""
    C, CI = t.customer, t.customer_identity
    reach: sa.ColumnElement[bool] = C.c.erased_at.is_(None)
    if actor is not None:
        reach = reach & C.c.unit_id.in_(sorted(_units_with_all(actor, IMPORTERS)))
    matches: set[tuple[int, int, str]] = set()
    for start in range(0, len(wanted), _KEY_CHUNK):
        part = wanted[start:start + _KEY_CHUNK]
        queries = [sa.select(C.c.id, C.c.unit_id, column).where(column.in_(part), reach)
                   for column in (C.c.public_id, C.c.external_id)]
        queries.append(sa.select(C.c.id, C.c.unit_id, CI.c.value)
                       .join(CI, CI.c.customer_id == C.c.id).where(CI.c.value.in_(part), reach))
        for query in queries:
            matches.update((int(cid), int(unit_id), str(value))
                           for cid, unit_id, value in conn.execute(query))
    return matches


def _units_with_all(actor: Actor, permissions: Iterable[Permission]) -> frozenset[int]:
    """The units where the actor has every one of the permissions in full."""
    units: frozenset[int] | None = None
    for permission in permissions:
        have = actor.scope.visibility(permission).unit_ids
        units = have if units is None else units & have
    return units or frozenset()


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
        raise NotFound("scoped_refs.no_survey_unit", name=name, where=where)
    return row


def units_outside(actor: Actor, reach: Reach, units: Iterable[int | None]) -> set[int]:
    """Those of the units where the actor lacks every one of the permissions."""
    covered = reach_units(actor, reach)
    return {u for u in units if u is not None and u not in covered}


def require_org_wide(actor: Actor, permission: Permission, units: Iterable[int], what: Phrase,
                     where: str | None = None) -> None:
    """An organisation-wide object (a journey and its touchpoints, an item code) is changed
    only by someone whose `permission` covers every unit that uses it: an administrator, or a
    manager granted at a unit above all of them."""
    actor.require(permission)
    if not actor.scope.visibility(permission).covers_all(units):
        raise Forbidden("scoped_refs.shared_units_outside_yours", what=what, where=where)


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
            raise Forbidden("scoped_refs.item_code_used_surveys", code=code, where="item_code")


def unit_depths(conn: Connection) -> dict[int, int]:
    """How far below the root each unit is (the root: 0)."""
    parents = parent_map(conn)
    return {unit: len(lineage_in(parents, unit)) - 1 for unit in parents}
