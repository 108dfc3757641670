"""Staff scorecards: minimum n and shrinkage towards the unit mean, and the period's service star.

A staff member's shown score is the credibility-weighted (empirical Bayes) mean

    shrunk = (n · staff_mean + k · unit_mean) / (n + k)

so a handful of responses cannot crown or shame anyone. The prior strength k is, in order:
the value the caller gives; else the estimate k = σ²_within / τ²_between from a one-way
random-effects ANOVA over the unit's staff (method of moments, unbalanced n); else, when that
estimate is impossible (fewer than two staff with responses, no within-staff degrees of freedom, or
no between-staff variance beyond noise), `DEFAULT_PRIOR_STRENGTH`.
Staff under `min_n` responses show "too few responses" (no raw and no shrunk score) but still
count towards the unit mean and the variance estimate. The minimum n is the one every figure
uses (TIYAN_MIN_N, 30 by default; metrics.DEFAULT_MIN_N), not a staff rule of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tiyan.domain.metrics import DEFAULT_MIN_N, MetricsError

DEFAULT_PRIOR_STRENGTH = 20.0
TIE_DECIMALS = 9


@dataclass(frozen=True)
class StaffSums:
    """One staff member's responses in the period: n, sum and sum of squares of the score."""

    staff_id: str
    n: int
    total: float
    total_of_squares: float

    def __post_init__(self) -> None:
        if self.n < 0:
            raise MetricsError("staff.staff_n_must_more", staff_id=self.staff_id, n=self.n)
        # database sums may arrive as Decimal; the statistics are done in float
        object.__setattr__(self, "total", float(self.total))
        object.__setattr__(self, "total_of_squares", float(self.total_of_squares))

    @property
    def mean(self) -> float:
        return self.total / self.n


class PriorSource(StrEnum):
    GIVEN = "given"
    ESTIMATED = "estimated"
    DEFAULT = "default"


@dataclass(frozen=True)
class StaffScore:
    staff_id: str
    n: int
    raw_mean: float | None  # None when too_few
    shrunk: float | None  # None when too_few
    too_few: bool


@dataclass(frozen=True)
class Scorecard:
    unit_mean: float
    prior_strength: float
    prior_source: PriorSource
    min_n: int
    scores: tuple[StaffScore, ...]

    def service_star(self) -> StaffScore | None:
        """The best shrunk score among staff with at least min_n responses.

        Ties (equal to 9 decimals) go to more responses, then to the smaller staff id.
        """
        eligible = [score for score in self.scores if not score.too_few]
        if not eligible:
            return None
        return min(eligible, key=star_rank)


def star_rank(score: StaffScore) -> tuple[float, int, str]:
    return (-round(score.shrunk or 0.0, TIE_DECIMALS), -score.n, score.staff_id)


@dataclass(frozen=True)
class VarianceComponents:
    within: float  # σ², mean square within staff
    between: float  # τ², variance of the true staff means (may be <= 0)


def variance_components(staff: Sequence[StaffSums]) -> VarianceComponents | None:
    """Method-of-moments variance components; None when they cannot be estimated."""
    groups = [s for s in staff if s.n > 0]
    total_n = sum(s.n for s in groups)
    if len(groups) < 2 or total_n - len(groups) < 1:
        return None
    grand_mean = sum(s.total for s in groups) / total_n
    ss_within = sum(max(0.0, s.total_of_squares - s.n * s.mean**2) for s in groups)
    ms_within = ss_within / (total_n - len(groups))
    ms_between = sum(s.n * (s.mean - grand_mean) ** 2 for s in groups) / (len(groups) - 1)
    n0 = (total_n - sum(s.n**2 for s in groups) / total_n) / (len(groups) - 1)
    return VarianceComponents(within=ms_within, between=(ms_between - ms_within) / n0)


def prior_strength(staff: Sequence[StaffSums], given: float | None) -> tuple[float, PriorSource]:
    if given is not None:
        if given < 0:
            raise MetricsError("staff.prior_strength_must_more", given=given)
        return given, PriorSource.GIVEN
    components = variance_components(staff)
    if components is None or components.between <= 0 or components.within <= 0:
        return DEFAULT_PRIOR_STRENGTH, PriorSource.DEFAULT
    return components.within / components.between, PriorSource.ESTIMATED


def shrink(n: int, staff_mean: float, unit_mean: float, k: float) -> float:
    """Credibility-weighted mean: (n·staff_mean + k·unit_mean) / (n + k)."""
    if n + k <= 0:
        raise MetricsError("staff.shrink_needs_n_k")
    return (n * staff_mean + k * unit_mean) / (n + k)


def staff_scorecard(
    staff: Sequence[StaffSums],
    *,
    min_n: int = DEFAULT_MIN_N,
    prior: float | None = None,
    unit_mean: float | None = None,
) -> Scorecard:
    """Each staff member's shrunk score; `unit_mean` defaults to the mean of all their responses."""
    check_unique_ids(staff)
    total_n = sum(s.n for s in staff)
    if unit_mean is None:
        if total_n == 0:
            raise MetricsError("staff.staff_scorecard_no_responses")
        unit_mean = sum(s.total for s in staff) / total_n
    k, source = prior_strength(staff, prior)
    scores = tuple(score_of(s, unit_mean, k, min_n) for s in staff)
    return Scorecard(unit_mean, k, source, min_n, scores)


def score_of(staff: StaffSums, unit_mean: float, k: float, min_n: int) -> StaffScore:
    if staff.n < max(min_n, 1):
        return StaffScore(staff.staff_id, staff.n, None, None, too_few=True)
    shrunk = shrink(staff.n, staff.mean, unit_mean, k)
    return StaffScore(staff.staff_id, staff.n, staff.mean, shrunk, too_few=False)


def check_unique_ids(staff: Sequence[StaffSums]) -> None:
    ids = [s.staff_id for s in staff]
    if len(set(ids)) != len(ids):
        raise MetricsError("staff.staff_scorecard_staff_id", ids=ids)
