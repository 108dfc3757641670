"""Pair sums over driver value rows equal the self-join by response they stand for."""

import itertools
import random

import pytest

from tiyan.analytics.driver_values import ASPECT, value_pairs


def joined(rows, *, aspects_only):
    """The definition: every two rows of one response, codes in order, a code's own sums from
    each row with itself."""
    out = {}
    for (ra, ca, qa, va, ta), (rb, cb, qb, vb, _) in itertools.product(rows, rows):
        if ra != rb or not (ca < cb or (ca == cb and qa == qb)):
            continue
        if aspects_only and not (ca.startswith(ASPECT) or cb.startswith(ASPECT)):
            continue
        n, sa, sb, saa, sbb, sab, top = out.get((ca, cb), (0, 0.0, 0.0, 0.0, 0.0, 0.0, 0))
        out[(ca, cb)] = (n + 1, sa + va, sb + vb, saa + va * va, sbb + vb * vb, sab + va * vb,
                         top + ta)
    return out


COLUMNS = (("nps", "q1"), ("sat_quality", "q2"), ("sat_quality", "q9"), ("sat_price", "q3"),
           ("repurchase", "repurchase"), (f"{ASPECT}waiting", f"{ASPECT}waiting"),
           (f"{ASPECT}price", f"{ASPECT}price"))


def generated_rows(seed: int):
    """Responses answering some items (one item asked by two questions), an outcome, and
    signed aspects, each present or missing at random."""
    rng = random.Random(seed)
    rows = []
    for rid in rng.sample(range(1, 10_000), 60):
        for code, qkey in COLUMNS:
            if rng.random() < 0.7:
                value = rng.choice([-1, 0, 1]) if code.startswith(ASPECT) else rng.randint(0, 10)
                rows.append((rid, code, qkey, float(value), int(value >= 9 or value == 1)))
    rng.shuffle(rows)
    return rows


@pytest.mark.parametrize("aspects_only", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pair_sums_equal_the_self_join_by_response(seed, aspects_only):
    rows = generated_rows(seed)
    got = value_pairs(rows, aspects_only=aspects_only)
    want = joined(rows, aspects_only=aspects_only)
    assert set(got) == set(want)
    for key, sums in want.items():
        assert got[key][0] == sums[0] and got[key][6] == sums[6], key
        assert got[key][1:6] == pytest.approx(sums[1:6]), key


def test_no_rows_no_pairs_and_a_lone_row_pairs_with_itself():
    assert value_pairs([], aspects_only=False) == {}
    assert value_pairs([(7, "nps", "q1", 9.0, 1)], aspects_only=False) == {
        ("nps", "nps"): (1, 9.0, 9.0, 81.0, 81.0, 81.0, 1)}
    assert value_pairs([(7, "nps", "q1", 9.0, 1)], aspects_only=True) == {}
