"""Case workflow, SLA policy parsing, routing and escalation chains."""

import pytest

from tiyan.domain.cases import (
    DEFAULT_SLA,
    CaseStatus,
    TimerKind,
    check_transition,
    escalation_chain,
    parse_sla,
    pick_owner,
)
from tiyan.errors import Conflict, InvalidInput

S = CaseStatus


def test_forward_path_and_reopen() -> None:
    path = [S.NEW, S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED]
    assert [check_transition(a, b) for a, b in zip(path, path[1:], strict=False)] == [
        "acknowledged", "in_progress", "resolved", "closed"]
    assert check_transition(S.CLOSED, S.IN_PROGRESS) == "reopened"
    assert check_transition(S.RESOLVED, S.IN_PROGRESS) == "reopened"


@pytest.mark.parametrize(("a", "b"), [(S.NEW, S.CLOSED), (S.CLOSED, S.NEW),
                                      (S.IN_PROGRESS, S.ACKNOWLEDGED), (S.RESOLVED, S.RESOLVED)])
def test_disallowed_transitions_conflict(a: CaseStatus, b: CaseStatus) -> None:
    with pytest.raises(Conflict) as err:
        check_transition(a, b)
    assert f"a {a} case cannot become {b}" in err.value.message


def test_sla_defaults_and_parsing() -> None:
    assert DEFAULT_SLA.targets[TimerKind.ACKNOWLEDGE].working
    policy = parse_sla({"acknowledge": {"hours": 2, "working": True}, "close": {"hours": 48}})
    assert set(policy.targets) == {TimerKind.ACKNOWLEDGE, TimerKind.CLOSE}
    assert parse_sla(policy.to_json()) == policy
    with pytest.raises(InvalidInput) as err:
        parse_sla({"close": {"hours": -1}})
    assert err.value.where == "sla.close"
    with pytest.raises(InvalidInput) as err:
        parse_sla({"lunch": {"hours": 1}})
    assert err.value.where == "sla.lunch"


def test_routing_falls_back_up_the_hierarchy_and_escalation_skips_levels() -> None:
    parent_of = {1: None, 2: 1, 3: 2, 4: 3}  # hq > region > store > department
    chain = escalation_chain(4, parent_of)
    assert chain == [4, 3, 2, 1]
    holders = {3: [30, 31], 1: [10]}  # nobody holds the role in the department or the region
    assert pick_owner(chain, holders) == (3, 30)
    assert pick_owner(chain, holders, skip_levels=1) == (1, 10)
    assert pick_owner(chain, holders, skip_levels=2) is None


def test_escalation_climbs_one_step_per_level_to_the_top() -> None:
    from tiyan.domain.cases import escalation_ladder, escalation_step

    # store 4 → district 3 → region 2 → group 1; the owner manages the store
    chain, above = [4, 3, 2, 1], [3, 2, 1]
    holders = {"unit_manager": {4: [40], 2: [20, 21]}, "cx_manager": {2: [25], 1: [15]},
               "admin": {1: [10]}}
    ladder = escalation_ladder(above, chain, holders, ["unit_manager", "cx_manager", "admin"],
                               owner=40)
    assert ladder == [(2, 20), (2, 25), (1, 15), (1, 10)]
    assert [escalation_step(ladder, level) for level in (1, 2, 3, 4, 5, 9)] == [
        (2, 20), (2, 25), (1, 15), (1, 10), (1, 10), (1, 10)]
    assert escalation_step([], 1) is None
    # a user holding two roles is one step; the owner is never a step
    both = {"unit_manager": {2: [20]}, "cx_manager": {2: [20]}, "admin": {1: [40, 10]}}
    assert escalation_ladder(above, chain, both, ["unit_manager", "cx_manager", "admin"],
                             owner=40) == [(2, 20), (1, 10)]
