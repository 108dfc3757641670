"""VOC review arithmetic, against hand-computed examples."""

import pytest

from tiyan.domain.voc import (
    SlaCompliance,
    Trend,
    mean_of,
    nps_of,
    parse_kpi,
    theme_impacts,
    trend,
)
from tiyan.errors import InvalidInput


def test_points_lost_is_share_times_the_nps_gap_by_hand():
    # 10 responses: 1-4 complain about waiting (scores 2, 3, 9, 6 → NPS (1-3)/4 = -50);
    # the other six score 10, 10, 9, 9, 8, 5 → NPS (4-1)/6 = 50; share 0.4; lost 0.4 × 100 = 40
    scores = {1: 2, 2: 3, 3: 9, 4: 6, 5: 10, 6: 10, 7: 9, 8: 9, 9: 8, 10: 5}
    result = theme_impacts(scores, {"waiting": [1, 2, 3, 4], "price": [10], "none": [99]})
    assert [r.code for r in result] == ["waiting", "price"]
    waiting = result[0]
    assert (waiting.responses, waiting.share) == (4, 0.4)
    assert waiting.kpi_with == pytest.approx(-50) and waiting.kpi_without == pytest.approx(50)
    assert waiting.points_lost == pytest.approx(40)
    # overall NPS = 0.4 × -50 + 0.6 × 50 = 10: lifting the theme to 50 gains exactly 40 points
    assert nps_of(scores.values()) == pytest.approx(10)
    price = result[1]  # NPS without it = (5 promoters - 3 detractors)/9
    assert price.points_lost == pytest.approx(0.1 * (100 * 2 / 9 + 100))


def test_new_rising_steady_and_falling_themes():
    assert trend(5, 100, 0, 100) is Trend.NEW
    assert trend(2, 100, 0, 100) is Trend.STEADY  # too few to call new
    assert trend(9, 100, 4, 100) is Trend.RISING
    assert trend(5, 100, 4, 100) is Trend.STEADY
    assert trend(2, 100, 6, 100) is Trend.FALLING


def test_sla_compliance_rate():
    assert SlaCompliance(4, 3).rate == 0.75
    assert SlaCompliance(0, 0).rate is None


def test_points_lost_on_a_mean_kpi_by_hand():
    # CSAT 1-5: responses 1-2 complain (scores 2, 3 → mean 2.5); the others 5, 4, 4, 5 → 4.5;
    # share 2/6; lost = 1/3 × (4.5 - 2.5) = 0.667 CSAT points
    scores = {1: 2, 2: 3, 3: 5, 4: 4, 5: 4, 6: 5}
    kpi = parse_kpi("csat")
    (waiting,) = theme_impacts(scores, {"waiting": [1, 2]}, kpi.value)
    assert waiting.kpi_with == pytest.approx(2.5) and waiting.kpi_without == pytest.approx(4.5)
    assert waiting.points_lost == pytest.approx(2 / 3)
    assert mean_of([]) is None


def test_kpi_names_nps_csat_or_an_item():
    assert (parse_kpi("nps").item, parse_kpi("nps").kind) == ("nps", "nps")
    assert (parse_kpi("csat").item, parse_kpi("csat").kind) == ("csat", "mean")
    assert (parse_kpi("item:clean").item, parse_kpi("item:clean").kind) == ("clean", "mean")
    assert parse_kpi("").code == "nps"
    for bad in ("ces", "item:", "item:a b", "item:" + "x" * 70):
        with pytest.raises(InvalidInput) as error:
            parse_kpi(bad)
        assert error.value.where == "kpi"
