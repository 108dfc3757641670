"""Roles, permissions and the unit scope they cover.

A role is granted to a user *at an organisation unit* and covers that unit's whole subtree.
`Scope` turns a user's grants into what they may see and do; the store layer applies it to
every query, so no handler can forget it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from tiyan.errors import Forbidden, Phrase


class Role(StrEnum):
    ADMIN = "admin"
    CX_MANAGER = "cx_manager"
    UNIT_MANAGER = "unit_manager"
    FRONTLINE = "frontline"
    AGENT = "agent"
    ANALYST = "analyst"
    VIEWER = "viewer"


class Permission(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_RESPONSES = "view_responses"
    VIEW_CUSTOMERS = "view_customers"
    VIEW_PII = "view_pii"
    VIEW_STAFF = "view_staff"
    EXPORT = "export"
    MANAGE_SURVEYS = "manage_surveys"
    ENTER_RESPONSES = "enter_responses"
    MANAGE_CASES = "manage_cases"
    MANAGE_USERS = "manage_users"
    MANAGE_UNITS = "manage_units"
    VIEW_AUDIT = "view_audit"
    MANAGE_WEBHOOKS = "manage_webhooks"
    IMPORT_FEEDBACK = "import_feedback"
    ERASE_CUSTOMERS = "erase_customers"  # the right to erasure (PIPL / GDPR)
    CORRECT_TEXT = "correct_text"  # correct a comment's sentiment and aspects
    ADAPT_TEXT_MODELS = "adapt_text_models"  # fit the installation's adaptation, roll it back
    MANAGE_JOBS = "manage_jobs"  # see failed and stuck background jobs, retry them
    MANAGE_CALENDARS = "manage_calendars"  # business hours, holidays and make-up working days
    MANAGE_UNIT_CHANNELS = "manage_unit_channels"  # a unit's own e-mail addresses and robots


def permission_words(permission: Permission) -> Phrase:
    """The permission as a refusal names it, in the reader's language ('导出数据', not
    'export')."""
    return Phrase(f"permission.{permission.value}")


P = Permission
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.CX_MANAGER: frozenset(
        {P.VIEW_DASHBOARD, P.VIEW_RESPONSES, P.VIEW_CUSTOMERS, P.VIEW_PII, P.VIEW_STAFF,
         P.EXPORT, P.MANAGE_SURVEYS, P.MANAGE_CASES, P.MANAGE_WEBHOOKS, P.IMPORT_FEEDBACK,
         P.ERASE_CUSTOMERS, P.CORRECT_TEXT}
    ),
    Role.UNIT_MANAGER: frozenset(
        {P.VIEW_DASHBOARD, P.VIEW_RESPONSES, P.VIEW_CUSTOMERS, P.VIEW_PII, P.VIEW_STAFF,
         P.EXPORT, P.MANAGE_CASES, P.IMPORT_FEEDBACK, P.MANAGE_CALENDARS,
         P.MANAGE_UNIT_CHANNELS}
    ),
    Role.FRONTLINE: frozenset({P.VIEW_DASHBOARD, P.VIEW_RESPONSES}),
    Role.AGENT: frozenset(
        {P.VIEW_DASHBOARD, P.VIEW_RESPONSES, P.VIEW_CUSTOMERS, P.VIEW_PII, P.ENTER_RESPONSES,
         P.MANAGE_CASES}
    ),
    Role.ANALYST: frozenset(
        {P.VIEW_DASHBOARD, P.VIEW_RESPONSES, P.VIEW_CUSTOMERS, P.VIEW_STAFF, P.EXPORT,
         P.IMPORT_FEEDBACK, P.CORRECT_TEXT}
    ),
    Role.VIEWER: frozenset({P.VIEW_DASHBOARD}),
}


class TokenScope(StrEnum):
    """What an API token may do, within its user's own permissions."""

    READ = "read"  # GET, HEAD and OPTIONS only
    WRITE = "write"  # reads and writes, but not the administrative permissions below
    ADMIN = "admin"  # everything its user may do, managing users and API tokens included


# Permissions a read or write token never carries: people, units, the audit trail, and
# webhooks (which send data out of tiyan). Only an admin-scoped token or a browser session
# reaches the endpoints that need them.
ADMIN_PERMISSIONS = frozenset({P.MANAGE_USERS, P.MANAGE_UNITS, P.VIEW_AUDIT, P.MANAGE_WEBHOOKS,
                               P.ADAPT_TEXT_MODELS, P.MANAGE_JOBS})
TOKEN_PERMISSIONS: Mapping[TokenScope, frozenset[Permission]] = {
    TokenScope.READ: frozenset(Permission) - ADMIN_PERMISSIONS,
    TokenScope.WRITE: frozenset(Permission) - ADMIN_PERMISSIONS,
    TokenScope.ADMIN: frozenset(Permission),
}
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_token_request(scope: TokenScope, method: str) -> None:
    """A read token may only read: any other method is refused before the handler runs."""
    if scope is TokenScope.READ and method.upper() not in READ_ONLY_METHODS:
        raise Forbidden("access.api_token_read_scope",
                        where="token")

# Roles whose view of responses and scores is limited to the responses about themselves.
SELF_ONLY_ROLES = frozenset({Role.FRONTLINE})
SELF_ONLY_PERMISSIONS = frozenset({Permission.VIEW_RESPONSES, Permission.VIEW_DASHBOARD})


@dataclass(frozen=True)
class Grant:
    role: Role
    unit_id: int


@dataclass(frozen=True)
class Visibility:
    """What one permission reaches: units in full, plus units where only one staff member's rows."""

    unit_ids: frozenset[int]
    staff_rows: tuple[tuple[frozenset[int], int], ...] = ()

    @property
    def all_units(self) -> frozenset[int]:
        """Every unit the visibility touches, in full or for one staff member's rows."""
        return self.unit_ids.union(*(units for units, _ in self.staff_rows))

    @property
    def is_empty(self) -> bool:
        return not self.unit_ids and not self.staff_rows

    def covers_unit(self, unit_id: int | None) -> bool:
        return unit_id is not None and unit_id in self.unit_ids

    def covers_all(self, unit_ids: Iterable[int]) -> bool:
        """Every one of the units, in full: what editing an organisation-wide object (a
        journey, an item code) used by those units takes."""
        return all(u in self.unit_ids for u in unit_ids)

    def covers_row(self, unit_id: int | None, staff_id: int | None) -> bool:
        if self.covers_unit(unit_id):
            return True
        return any(unit_id in units and staff_id == sid for units, sid in self.staff_rows)


@dataclass(frozen=True)
class Scope:
    """A user's grants resolved against the org tree (each grant covers its unit's subtree)."""

    user_id: int
    grants: tuple[Grant, ...]
    subtrees: Mapping[int, frozenset[int]]
    staff_id: int | None = None
    ceiling: frozenset[Permission] = frozenset(Permission)  # an API token's scope narrows it
    _cache: dict[Permission, Visibility] = field(default_factory=dict, compare=False, repr=False)

    def roles(self) -> frozenset[Role]:
        return frozenset(g.role for g in self.grants)

    @property
    def home_unit_id(self) -> int | None:
        """The user's place in the organisation: the unit of the grant that covers the most
        units (the one nearest the top), the lowest unit id among equals; none without grants.
        Times shown to the user are in this unit's time zone."""
        if not self.grants:
            return None
        best = min(self.grants,
                   key=lambda g: (-len(self.subtrees.get(g.unit_id, ())), g.unit_id))
        return best.unit_id

    def can(self, permission: Permission) -> bool:
        return not self.visibility(permission).is_empty

    def require(self, permission: Permission, unit_id: int | None = None) -> None:
        vis = self.visibility(permission)
        allowed = vis.covers_unit(unit_id) if unit_id is not None else not vis.is_empty
        if not allowed:
            where = f"unit {unit_id}" if unit_id is not None else None
            raise Forbidden("access.you_do_not_permission", permission=permission_words(permission),
                            where=where)

    def visibility(self, permission: Permission) -> Visibility:
        if permission not in self._cache:
            self._cache[permission] = self._resolve(permission)
        return self._cache[permission]

    def _resolve(self, permission: Permission) -> Visibility:
        full: set[int] = set()
        self_only: list[tuple[frozenset[int], int]] = []
        for grant in self.grants:
            if permission not in ROLE_PERMISSIONS[grant.role] or permission not in self.ceiling:
                continue
            units = self.subtrees.get(grant.unit_id, frozenset())
            if grant.role in SELF_ONLY_ROLES and permission in SELF_ONLY_PERMISSIONS:
                if self.staff_id is not None:
                    self_only.append((units, self.staff_id))
                continue
            full |= units
        return Visibility(frozenset(full), tuple(self_only))


def subtree(parent_of: Mapping[int, int | None], root: int) -> frozenset[int]:
    """The unit `root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for uid, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(uid)
    found, stack = set(), [root] if root in parent_of else []
    while stack:
        node = stack.pop()
        found.add(node)
        stack.extend(children.get(node, ()))
    return frozenset(found)


def build_scope(
    user_id: int,
    grants: Iterable[Grant],
    parent_of: Mapping[int, int | None],
    staff_id: int | None = None,
    token_scope: TokenScope | None = None,
) -> Scope:
    grants = tuple(grants)
    subtrees = {g.unit_id: subtree(parent_of, g.unit_id) for g in grants}
    ceiling = TOKEN_PERMISSIONS[token_scope] if token_scope else frozenset(Permission)
    return Scope(user_id, grants, subtrees, staff_id, ceiling)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user with their resolved scope."""

    user_id: int
    email: str
    name: str
    scope: Scope
    locale: str | None = None
    token_scope: TokenScope | None = None  # None: a signed-in browser session or the CLI

    def can(self, permission: Permission) -> bool:
        return self.scope.can(permission)

    def require(self, permission: Permission, unit_id: int | None = None) -> None:
        self.scope.require(permission, unit_id)

    def require_full_credential(self) -> None:
        """Managing one's password and API tokens needs a session or an admin-scoped token."""
        if self.token_scope not in (None, TokenScope.ADMIN):
            raise Forbidden("access.api_token_scope_managing", token_scope=self.token_scope,
                            where="token")
