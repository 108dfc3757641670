"""Significance tests between figures; a change is marked only when it is significant (alpha 0.05).

- proportions: two-proportion z-test with the pooled proportion;
- means: Welch's t-test (unequal variances, Welch-Satterthwaite degrees of freedom);
- NPS: z-test on the difference of two independent NPS, variance = sum of the trinomial variances;
- composite indices: z-test on the difference with the estimates' standard errors.

`compare` compares two independent estimates (two periods, two units). `compare_to_parent`
compares a unit with its parent, whose responses include the unit's own: the covariance is
accounted for (Var(unit - parent) = (1 - 2w)Var(unit) + Var(parent), w = n_unit / n_parent).

`control_false_discoveries` adjusts the markers of a page with many tests (Benjamini-Hochberg
across all of them): a change stays up/down only where its adjusted p-value (q) is below alpha.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TypeVar

from scipy import special, stats

from tiyan.domain.metrics import Estimate, EstimateKind, MetricsError, nps_standard_error

ALPHA = 0.05


@dataclass(frozen=True)
class TestResult:
    """The outcome of a two-sample test: difference (first - second), statistic, p-value."""

    __test__ = False  # not a pytest test class

    delta: float
    statistic: float
    p_value: float
    significant: bool


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"
    STEADY = "steady"  # no significant change
    NOT_COMPARABLE = "not_comparable"  # one side has too few responses


@dataclass(frozen=True)
class Change:
    """A change between two figures; `direction` is up/down only when it is significant."""

    delta: float | None
    p_value: float | None
    significant: bool
    direction: Direction
    q_value: float | None = None  # Benjamini-Hochberg adjusted p across the page's tests


def two_sided_normal_p(z: float) -> float:
    return float(2 * special.ndtr(-abs(z)))


def significance_result(delta: float, statistic: float, p_value: float, alpha: float) -> TestResult:
    return TestResult(delta, statistic, p_value, significant=p_value < alpha)


def z_test(delta: float, standard_error: float, alpha: float = ALPHA) -> TestResult:
    """z-test of a difference against 0 given its standard error."""
    if standard_error < 0 or math.isnan(standard_error):
        raise MetricsError("statistics.standard_error_must_more", standard_error=standard_error)
    if standard_error == 0:
        return significance_result(
            delta,
            0.0 if delta == 0 else math.copysign(math.inf, delta),
            1.0 if delta == 0 else 0.0,
            alpha,
        )
    z = delta / standard_error
    return significance_result(delta, z, two_sided_normal_p(z), alpha)


def two_proportion_z_test(
    k1: int, n1: int, k2: int, n2: int, *, alpha: float = ALPHA
) -> TestResult:
    """Pooled two-proportion z-test; delta is p1 - p2 as a fraction."""
    for name, k, n in (("first", k1, n1), ("second", k2, n2)):
        if n <= 0 or not 0 <= k <= n:
            raise MetricsError("statistics.two_proportion_z_test", name=name, k=k, n=n)
    pooled = (k1 + k2) / (n1 + n2)
    standard_error = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z_test(k1 / n1 - k2 / n2, standard_error, alpha)


def welch_degrees_of_freedom(se1: float, n1: int, se2: float, n2: int) -> float:
    v1, v2 = se1 * se1, se2 * se2
    if v1 + v2 == 0:
        return float(n1 + n2 - 2)
    return (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))


def welch_from_standard_errors(
    delta: float, se1: float, n1: int, se2: float, n2: int, alpha: float
) -> TestResult:
    if n1 < 2 or n2 < 2:
        raise MetricsError("statistics.welch_t_test_needs", n1=n1, n2=n2)
    standard_error = math.sqrt(se1 * se1 + se2 * se2)
    if standard_error == 0:
        return z_test(delta, 0.0, alpha)
    t = delta / standard_error
    df = welch_degrees_of_freedom(se1, n1, se2, n2)
    return significance_result(delta, t, float(2 * special.stdtr(df, -abs(t))), alpha)


def welch_t_test(
    mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int, *, alpha: float = ALPHA
) -> TestResult:
    """Welch's t-test from each sample's mean, standard deviation (n - 1) and size."""
    if n1 < 2 or n2 < 2:
        raise MetricsError("statistics.welch_t_test_needs", n1=n1, n2=n2)
    return welch_from_standard_errors(
        mean1 - mean2, sd1 / math.sqrt(n1), n1, sd2 / math.sqrt(n2), n2, alpha
    )


def nps_difference_test(
    first: tuple[int, int, int], second: tuple[int, int, int], *, alpha: float = ALPHA
) -> TestResult:
    """z-test of NPS1 - NPS2 from (promoters, passives, detractors); delta in NPS points."""
    se1, se2 = nps_standard_error(*first), nps_standard_error(*second)
    delta = 100 * (nps_fraction(first) - nps_fraction(second))
    return z_test(delta, 100 * math.sqrt(se1 * se1 + se2 * se2), alpha)


def nps_fraction(counts: tuple[int, int, int]) -> float:
    promoters, passives, detractors = counts
    return (promoters - detractors) / (promoters + passives + detractors)


def check_comparable(first: Estimate, second: Estimate) -> None:
    if first.kind != second.kind:
        raise MetricsError("statistics.cannot_compare_figure_figure", kind=first.kind,
                           kind2=second.kind)
    for estimate in (first, second):
        if estimate.value is not None and estimate.standard_error is None:
            raise MetricsError(
                "statistics.figure_without_standard_error", kind=estimate.kind
            )


def shown_value(estimate: Estimate) -> float:
    if estimate.value is None:
        raise MetricsError("statistics.figure_too_few_responses", kind=estimate.kind)
    return estimate.value


def independent_test(current: Estimate, previous: Estimate, alpha: float) -> TestResult:
    delta = shown_value(current) - shown_value(previous)
    se1, se2 = current.standard_error or 0.0, previous.standard_error or 0.0
    if current.kind is EstimateKind.PROPORTION:
        k1 = round(shown_value(current) * current.n / 100)
        k2 = round(shown_value(previous) * previous.n / 100)
        result = two_proportion_z_test(k1, current.n, k2, previous.n, alpha=alpha)
        return TestResult(delta, result.statistic, result.p_value, result.significant)
    if current.kind is EstimateKind.MEAN:
        return welch_from_standard_errors(delta, se1, current.n, se2, previous.n, alpha)
    return z_test(delta, math.sqrt(se1 * se1 + se2 * se2), alpha)


def change_from(result: TestResult) -> Change:
    if not result.significant:
        direction = Direction.STEADY
    else:
        direction = Direction.UP if result.delta > 0 else Direction.DOWN
    return Change(result.delta, result.p_value, result.significant, direction)


NOT_COMPARABLE = Change(
    delta=None, p_value=None, significant=False, direction=Direction.NOT_COMPARABLE
)


def compare(current: Estimate, previous: Estimate, *, alpha: float = ALPHA) -> Change:
    """The change from `previous` to `current` (independent samples), marked only if significant."""
    check_comparable(current, previous)
    if current.too_few or previous.too_few:
        return NOT_COMPARABLE
    return change_from(independent_test(current, previous, alpha))


def compare_to_parent(unit: Estimate, parent: Estimate, *, alpha: float = ALPHA) -> Change:
    """The unit's gap to its parent (unit - parent) when the parent's responses include the unit's.

    A z-test with Var(unit - parent) = (1 - 2w)Var(unit) + Var(parent), w = n_unit / n_parent.
    """
    check_comparable(unit, parent)
    if unit.n > parent.n:
        raise MetricsError("statistics.unit_n_more_parent", n=unit.n, n2=parent.n)
    if unit.too_few or parent.too_few:
        return NOT_COMPARABLE
    w = unit.n / parent.n
    var_unit, var_parent = (unit.standard_error or 0.0) ** 2, (parent.standard_error or 0.0) ** 2
    variance = max(0.0, (1 - 2 * w) * var_unit + var_parent)
    return change_from(z_test(shown_value(unit) - shown_value(parent), math.sqrt(variance), alpha))


K = TypeVar("K")


def control_false_discoveries(changes: Mapping[K, Change], *,
                              alpha: float = ALPHA) -> dict[K, Change]:
    """Benjamini-Hochberg across a family of tests (a page's markers): each tested change gets
    its adjusted p-value (q) and stays significant only where q < alpha, so that of the changes
    marked at most alpha (5%) are expected to be chance. Changes that were not tested (not
    comparable) are left as they are and do not count in the family."""
    tested = [key for key, c in changes.items() if c.p_value is not None]
    if not tested:
        return dict(changes)
    adjusted = stats.false_discovery_control([changes[k].p_value for k in tested], method="bh")
    out = dict(changes)
    for key, q in zip(tested, adjusted, strict=True):
        change = changes[key]
        significant = bool(q < alpha)
        direction = (Direction.STEADY if not significant
                     else Direction.UP if (change.delta or 0.0) > 0 else Direction.DOWN)
        out[key] = replace(change, q_value=float(q), significant=significant,
                           direction=direction)
    return out


def tested_count(changes: Sequence[Change]) -> int:
    return sum(1 for c in changes if c.p_value is not None)
