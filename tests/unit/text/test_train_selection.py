"""How `tiyan text train` chooses the Chinese sentiment model (selection_zh.json, issue 18).

The rule: best leave-one-domain-out mean on dev, among the candidates whose in-domain dev figures
stay within the guard of the model shipped before issue 18; test figures are never used.
"""

from __future__ import annotations

import copy
import json

import pytest

from tiyan.text.sentiment import MODELS
from tiyan.text.train import (
    SELECTION_ZH,
    ZH_CANDIDATE,
    ZH_REPORTED,
    guard_shortfalls,
    select_chinese,
)

RULE = json.loads(SELECTION_ZH.read_text(encoding="utf-8"))
PREVIOUS = {k: v for k, v in RULE["previous"].items() if isinstance(v, dict)}
REPORT = json.loads((MODELS / "training_report.json").read_text(encoding="utf-8"))


def _record(c: float, lodo: float, dev_drop: dict[str, float], test_drop: float = 0.0) -> dict:
    """A candidate whose dev figures are the previous model's minus `dev_drop` points."""
    in_domain = {}
    for corpus in ZH_REPORTED:
        reference = PREVIOUS.get(corpus, {"dev": 0.9, "test": 0.9})
        in_domain[corpus] = {
            "dev": {"accuracy": round(reference["dev"] - dev_drop.get(corpus, 0.0) / 100, 4)},
            "test": {"accuracy": round(reference["test"] - test_drop / 100, 4)},
        }
    lodo_dev = {"accuracy": lodo, "balanced_accuracy": lodo}
    return {"c": c, "lodo_dev": lodo_dev, "in_domain": in_domain}


def test_the_reference_figures_are_data_for_the_three_corpora_the_issue_names() -> None:
    assert set(PREVIOUS) == {"waimai_10k", "chnsenticorp_htl", "online_shopping_10_cats"}
    for figures in PREVIOUS.values():
        assert set(figures) == {"dev", "test"}
        assert all(0.5 < value < 1 for value in figures.values())
    assert 0 <= RULE["margin_points"] < RULE["guard_points"] == 1.0


def test_the_best_lodo_candidate_wins_when_it_holds_the_guard() -> None:
    records = [_record(3.0, 0.836, {}), _record(10.0, 0.840, {"chnsenticorp_htl": 0.9})]
    assert select_chinese(records, RULE)["chosen"] == 10.0


def test_a_candidate_more_than_a_point_down_on_dev_is_not_chosen_however_well_it_generalises() -> (
    None
):
    records = [
        _record(3.0, 0.836, {"chnsenticorp_htl": 0.5}),
        _record(10.0, 0.840, {"chnsenticorp_htl": 1.6}),
    ]
    selection = select_chinese(records, RULE)
    assert selection["chosen"] == 3.0
    assert selection["eligible"] == [3.0]
    assert selection["unreachable_on_dev"] == []
    by_c = {c["c"]: c for c in selection["candidates"]}
    assert by_c[10.0]["dev_shortfall"]["chnsenticorp_htl"] == pytest.approx(0.6)
    assert by_c[3.0]["dev_shortfall"] == dict.fromkeys(PREVIOUS, 0.0)


def test_test_figures_never_decide() -> None:
    records = [
        _record(3.0, 0.836, {}, test_drop=0.0),
        _record(10.0, 0.840, {}, test_drop=3.0),
    ]
    selection = select_chinese(records, RULE)
    assert selection["chosen"] == 10.0
    by_c = {c["c"]: c for c in selection["candidates"]}
    assert by_c[10.0]["test_shortfall"]["waimai_10k"] == pytest.approx(2.0)


def test_a_corpus_no_candidate_holds_is_named_and_the_guard_still_applies_to_the_others() -> None:
    records = [
        _record(2.0, 0.830, {"waimai_10k": 1.3}),
        _record(3.0, 0.836, {"waimai_10k": 1.2, "chnsenticorp_htl": 0.4}),
        _record(10.0, 0.840, {"waimai_10k": 1.1, "chnsenticorp_htl": 1.6}),
    ]
    selection = select_chinese(records, RULE)
    assert selection["unreachable_on_dev"] == ["waimai_10k"]
    assert selection["eligible"] == [2.0, 3.0]
    # C = 10 is closest on waimai but breaks the guard on hotel, which C = 2 and 3 hold
    assert selection["chosen"] == 3.0
    assert "waimai_10k" in selection["why"]


def test_when_no_candidate_holds_the_guard_the_closest_one_is_chosen_before_the_best_lodo() -> (
    None
):
    records = [
        _record(3.0, 0.836, {"waimai_10k": 1.3, "chnsenticorp_htl": 1.6}),
        _record(5.0, 0.838, {"waimai_10k": 1.3, "chnsenticorp_htl": 1.7}),
        _record(10.0, 0.840, {"waimai_10k": 1.6, "chnsenticorp_htl": 1.6}),
    ]
    selection = select_chinese(records, RULE)
    assert selection["unreachable_on_dev"] == ["chnsenticorp_htl", "waimai_10k"]
    # largest shortfall 0.6 for C = 3 and 10, 0.7 for C = 5; then the total: 0.9 against 1.2
    assert selection["chosen"] == 3.0
    # equally close: the best leave-one-domain-out mean
    records[2] = _record(10.0, 0.840, {"waimai_10k": 1.3, "chnsenticorp_htl": 1.6})
    assert select_chinese(records, RULE)["chosen"] == 10.0


def test_the_margin_tightens_the_guard() -> None:
    strict = copy.deepcopy(RULE)
    strict["margin_points"] = 0.5
    record = _record(10.0, 0.840, {"chnsenticorp_htl": 0.8})
    assert guard_shortfalls(record["in_domain"], RULE)["chnsenticorp_htl"] == 0.0
    assert guard_shortfalls(record["in_domain"], strict)["chnsenticorp_htl"] == pytest.approx(0.3)


def test_the_shipped_model_is_the_one_the_rule_chose_and_its_report_shows_the_choice() -> None:
    selection = REPORT["selection_zh"]
    assert [c["c"] for c in selection["candidates"]] == RULE["c_values"]
    # the rule, applied again to the recorded candidates, gives the recorded choice
    records = [
        {k: c[k] for k in ("c", "lodo_dev", "in_domain")} for c in selection["candidates"]
    ]
    assert select_chinese(records, RULE)["chosen"] == selection["chosen"]
    assert ZH_CANDIDATE.c_plain == selection["chosen"]
    chosen = next(c for c in selection["candidates"] if c["c"] == selection["chosen"])
    assert chosen["in_domain"] == REPORT["sentiment_zh"]
