import pytest

from tiyan.domain.access import Grant, Permission, Role, build_scope
from tiyan.errors import Forbidden

# 1 ─ 2 ─ 3
#   └ 4
# 5 (another root-level branch under 1)
PARENTS = {1: None, 2: 1, 3: 2, 4: 2, 5: 1}


def test_a_role_at_a_unit_covers_its_whole_subtree_and_nothing_else():
    scope = build_scope(7, [Grant(Role.UNIT_MANAGER, 2)], PARENTS)
    vis = scope.visibility(Permission.VIEW_RESPONSES)
    assert vis.unit_ids == {2, 3, 4}


def test_admin_at_the_root_sees_every_unit():
    scope = build_scope(1, [Grant(Role.ADMIN, 1)], PARENTS)
    assert scope.visibility(Permission.MANAGE_USERS).unit_ids == {1, 2, 3, 4, 5}


def test_frontline_staff_see_only_their_own_responses():
    scope = build_scope(9, [Grant(Role.FRONTLINE, 2)], PARENTS, staff_id=42)
    vis = scope.visibility(Permission.VIEW_RESPONSES)
    assert vis.unit_ids == frozenset()
    assert vis.covers_row(3, 42)
    assert not vis.covers_row(3, 43)
    assert not vis.covers_row(5, 42)


def test_frontline_without_a_staff_record_sees_no_responses():
    scope = build_scope(9, [Grant(Role.FRONTLINE, 2)], PARENTS)
    assert scope.visibility(Permission.VIEW_RESPONSES).is_empty


def test_grants_at_two_units_add_up():
    scope = build_scope(3, [Grant(Role.ANALYST, 3), Grant(Role.ANALYST, 5)], PARENTS)
    assert scope.visibility(Permission.EXPORT).unit_ids == {3, 5}


def test_viewer_may_see_the_dashboard_but_not_responses_or_pii():
    scope = build_scope(4, [Grant(Role.VIEWER, 1)], PARENTS)
    assert scope.can(Permission.VIEW_DASHBOARD)
    assert not scope.can(Permission.VIEW_RESPONSES)
    assert not scope.can(Permission.VIEW_PII)


def test_require_names_the_permission_and_unit():
    scope = build_scope(4, [Grant(Role.UNIT_MANAGER, 3)], PARENTS)
    with pytest.raises(Forbidden) as err:
        scope.require(Permission.MANAGE_CASES, 5)
    assert "'work on cases'" in err.value.message  # in words, not 'manage_cases'
    assert err.value.text("zh-CN") == "您在这里没有“处理工单”权限"
    assert err.value.where == "unit 5"


def test_analyst_cannot_see_pii_but_agent_can():
    assert not build_scope(1, [Grant(Role.ANALYST, 1)], PARENTS).can(Permission.VIEW_PII)
    assert build_scope(1, [Grant(Role.AGENT, 1)], PARENTS).can(Permission.VIEW_PII)
