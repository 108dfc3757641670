"""Survey metrics, each with its n and a 95% confidence interval.

Every figure is an `Estimate`. Under the minimum number of responses (`min_n`) an estimate is
"too few responses": its value and interval are None, so no screen can show a number for it.

- NPS: % promoters (9-10) - % detractors (0-6) on the -100..100 scale; CI by the adjusted Wald
  method of Rocks (2016): add 3/4 promoter and 3/4 detractor to n + 3, then the trinomial variance
  of p_promoter - p_detractor. The standard error kept for significance tests is the plain
  trinomial one.
- Proportions (top-2-box, response rate): percent, Wilson score interval.
- Means (CSAT, CES, any rating): Student-t interval from sufficient statistics
  (n, sum, sum of squares).
- Composite indices: see `CompositeIndex`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from scipy import special

from tiyan.errors import InvalidInput

Z_95 = 1.96
DEFAULT_MIN_N = 30


class MetricsError(InvalidInput, ValueError):
    """Invalid input to a metric or statistic; the message says what and where."""

    code = "invalid_metric_input"


class EstimateKind(StrEnum):
    """Which sampling model an estimate comes from; decides the significance test in `compare`."""

    PROPORTION = "proportion"
    MEAN = "mean"
    NPS = "nps"
    INDEX = "index"


@dataclass(frozen=True)
class Estimate:
    """A figure with its sample size and 95% CI; value/low/high are None when `too_few`."""

    value: float | None
    low: float | None
    high: float | None
    n: int
    too_few: bool
    kind: EstimateKind = EstimateKind.MEAN
    standard_error: float | None = None

    def as_text(self, decimals: int = 1) -> str:
        """'62.5 (95% CI 51.2 to 72.6, n=64)', or 'too few responses (n=12)'."""
        if self.value is None or self.low is None or self.high is None:
            return f"too few responses (n={self.n})"
        return (
            f"{self.value:.{decimals}f} (95% CI {self.low:.{decimals}f} "
            f"to {self.high:.{decimals}f}, n={self.n})"
        )


def too_few_responses(n: int, kind: EstimateKind) -> Estimate:
    """The estimate shown as "too few responses": n only, never a number."""
    return Estimate(value=None, low=None, high=None, n=n, too_few=True, kind=kind)


def check_min_n(min_n: int) -> None:
    if min_n < 0:
        raise MetricsError("metrics.min_n_must_more", min_n=min_n)


def check_count(name: str, value: int) -> None:
    if value < 0:
        raise MetricsError("metrics.must_more_got", name=name, value=value)


# --- proportions -------------------------------------------------------------------------------


def wilson_interval(k: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n, as fractions in [0, 1]."""
    check_count("k", k)
    if n <= 0 or k > n:
        raise MetricsError("metrics.wilson_interval_needs_k", k=k, n=n)
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if k == 0 else max(0.0, centre - half)  # exact bounds at k = 0 and k = n
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def proportion(k: int, n: int, *, min_n: int = DEFAULT_MIN_N) -> Estimate:
    """k out of n as a percent with a Wilson 95% CI."""
    check_count("k", k)
    check_count("n", n)
    check_min_n(min_n)
    if k > n:
        raise MetricsError("metrics.proportion_k_more_n", k=k, n=n)
    if n < max(min_n, 1):
        return too_few_responses(n, EstimateKind.PROPORTION)
    low, high = wilson_interval(k, n)
    p = k / n
    return Estimate(
        value=100 * p,
        low=100 * low,
        high=100 * high,
        n=n,
        too_few=False,
        kind=EstimateKind.PROPORTION,
        standard_error=100 * math.sqrt(p * (1 - p) / n),
    )


def response_rate(responses: int, invitations: int, *, min_n: int = DEFAULT_MIN_N) -> Estimate:
    """Responses per invitation in percent; n is the number of invitations."""
    if responses > invitations:
        raise MetricsError(
            "metrics.response_rate_responses_more", responses=responses, invitations=invitations
        )
    return proportion(responses, invitations, min_n=min_n)


# --- NPS ---------------------------------------------------------------------------------------


def nps_from_counts(
    promoters: int, passives: int, detractors: int, *, min_n: int = DEFAULT_MIN_N
) -> Estimate:
    """NPS on the -100..100 scale with the adjusted-Wald 95% CI (Rocks 2016)."""
    for name, count in (
        ("promoters", promoters),
        ("passives", passives),
        ("detractors", detractors),
    ):
        check_count(name, count)
    check_min_n(min_n)
    n = promoters + passives + detractors
    if n < max(min_n, 1):
        return too_few_responses(n, EstimateKind.NPS)
    value = (promoters - detractors) / n
    low, high = nps_adjusted_wald(promoters, detractors, n)
    return Estimate(
        value=100 * value,
        low=100 * min(low, value),  # the interval always holds the observed NPS (matters at n = 1)
        high=100 * max(high, value),
        n=n,
        too_few=False,
        kind=EstimateKind.NPS,
        standard_error=100 * nps_standard_error(promoters, passives, detractors),
    )


def nps_adjusted_wald(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """Adjusted-Wald interval of p_promoter - p_detractor: add 3/4 to each, 3 to n."""
    adjusted_n = n + 3
    p_adj = (promoters + 0.75) / adjusted_n
    d_adj = (detractors + 0.75) / adjusted_n
    centre = p_adj - d_adj
    half = Z_95 * math.sqrt((p_adj + d_adj - centre**2) / adjusted_n)
    return max(-1.0, centre - half), min(1.0, centre + half)


def nps_standard_error(promoters: int, passives: int, detractors: int) -> float:
    """Standard error of p_promoter - p_detractor (a fraction) from the trinomial variance."""
    n = promoters + passives + detractors
    if n <= 0:
        raise MetricsError("metrics.nps_standard_error_needs")
    p, d = promoters / n, detractors / n
    return math.sqrt(max(0.0, p + d - (p - d) ** 2) / n)


def nps_counts(scores: Iterable[int]) -> tuple[int, int, int]:
    """(promoters, passives, detractors) from 0-10 scores."""
    promoters = passives = detractors = 0
    for position, score in enumerate(scores):
        check_score(score, 0, 10, position)
        if score >= 9:
            promoters += 1
        elif score >= 7:
            passives += 1
        else:
            detractors += 1
    return promoters, passives, detractors


def nps(scores: Iterable[int], *, min_n: int = DEFAULT_MIN_N) -> Estimate:
    """NPS from 0-10 likelihood-to-recommend scores."""
    return nps_from_counts(*nps_counts(scores), min_n=min_n)


# --- means -------------------------------------------------------------------------------------


def check_score(score: float, scale_min: float, scale_max: float, position: int) -> None:
    if isinstance(score, bool) or not isinstance(score, int | float) or math.isnan(score):
        raise MetricsError("metrics.score_position_not_number", position=position, score=score)
    if not scale_min <= score <= scale_max:
        raise MetricsError(
            "metrics.score_position_outside", score=score, position=position, scale_min=scale_min,
            scale_max=scale_max
        )


def mean_estimate(
    n: int, total: float, total_of_squares: float, *, min_n: int = DEFAULT_MIN_N
) -> Estimate:
    """Mean with a Student-t 95% CI from n, sum and sum of squares (what SQL aggregates give)."""
    check_count("n", n)
    check_min_n(min_n)
    if n < max(min_n, 2):
        return too_few_responses(n, EstimateKind.MEAN)
    mean = float(total) / n
    variance = max(0.0, (float(total_of_squares) - n * mean * mean) / (n - 1))
    standard_error = math.sqrt(variance / n)
    half = float(special.stdtrit(n - 1, 0.975)) * standard_error
    return Estimate(
        value=mean,
        low=mean - half,
        high=mean + half,
        n=n,
        too_few=False,
        kind=EstimateKind.MEAN,
        standard_error=standard_error,
    )


def checked_scores(scores: Iterable[float], scale_min: float, scale_max: float) -> list[float]:
    values = list(scores)
    for position, score in enumerate(values):
        check_score(score, scale_min, scale_max, position)
    return values


def rating_mean(
    scores: Iterable[float],
    *,
    scale_min: float,
    scale_max: float,
    min_n: int = DEFAULT_MIN_N,
) -> Estimate:
    """Mean of any rating scale, every score checked against the scale."""
    values = checked_scores(scores, scale_min, scale_max)
    return mean_estimate(len(values), sum(values), sum(v * v for v in values), min_n=min_n)


def top2box(
    scores: Iterable[float], scale_max: int, *, min_n: int = DEFAULT_MIN_N, scale_min: int = 1
) -> Estimate:
    """Percent of scores in the two top boxes (scale_max - 1 or scale_max), Wilson CI."""
    values = checked_scores(scores, scale_min, scale_max)
    top = sum(1 for v in values if v >= scale_max - 1)
    return proportion(top, len(values), min_n=min_n)


@dataclass(frozen=True)
class Csat:
    """CSAT shown two ways: the mean score and the top-2-box percent."""

    mean: Estimate
    top2box: Estimate


def csat(scores: Iterable[int], *, scale_max: int = 5, min_n: int = DEFAULT_MIN_N) -> Csat:
    """CSAT on a 1..scale_max scale (1-5 by default): mean and top-2-box."""
    values = checked_scores(scores, 1, scale_max)
    return Csat(
        mean=rating_mean(values, scale_min=1, scale_max=scale_max, min_n=min_n),
        top2box=top2box(values, scale_max, min_n=min_n),
    )


def ces(scores: Iterable[int], *, scale_max: int = 7, min_n: int = DEFAULT_MIN_N) -> Estimate:
    """Customer effort score: the mean on a 1..scale_max scale (1-7 by default)."""
    return rating_mean(scores, scale_min=1, scale_max=scale_max, min_n=min_n)


# --- composite indices -------------------------------------------------------------------------


@dataclass(frozen=True)
class MeanSums:
    """Sufficient statistics of one item's scores: n, sum and sum of squares."""

    n: int
    total: float
    total_of_squares: float


@dataclass(frozen=True)
class IndexItem:
    """One item of a composite index: its weight and the scale its scores are on."""

    key: str
    weight: float
    scale_min: float
    scale_max: float

    def __post_init__(self) -> None:
        if not self.weight > 0:
            raise MetricsError(
                "metrics.index_item_weight_must", v_key=self.key, weight=self.weight
            )
        if not self.scale_max > self.scale_min:
            raise MetricsError(
                "metrics.index_item_scale_empty", v_key=self.key, scale_min=self.scale_min,
                scale_max=self.scale_max
            )

    def to_0_100(self, score: float) -> float:
        return 100 * (score - self.scale_min) / (self.scale_max - self.scale_min)


@dataclass(frozen=True)
class CompositeIndex:
    """A weighted index (e.g. CSI) of items rescaled to 0-100; weights are normalised to sum to 1.

    From per-item sums (`from_item_sums`) the CI uses the delta method with the items assumed
    perfectly correlated: SE = sum(w_i * SE_i). That is an upper bound (the CI is never too narrow).
    From respondent rows with every item answered (`from_rows`) each respondent's index is scored
    and the CI is the exact Student-t one of those per-respondent indices.
    """

    name: str
    items: tuple[IndexItem, ...]

    def __post_init__(self) -> None:
        keys = [item.key for item in self.items]
        if not keys:
            raise MetricsError("metrics.index_no_items", name=self.name)
        if len(set(keys)) != len(keys):
            raise MetricsError("metrics.index_item_key_twice", name=self.name, keys=keys)

    def weights(self) -> dict[str, float]:
        total = sum(item.weight for item in self.items)
        return {item.key: item.weight / total for item in self.items}

    def from_item_sums(
        self, item_sums: Mapping[str, MeanSums], *, min_n: int = DEFAULT_MIN_N
    ) -> Estimate:
        """The index from each item's sufficient statistics; n is the smallest item n."""
        item_means = [self.item_mean(item, item_sums, min_n) for item in self.items]
        n = min(mean.n for mean in item_means)
        if any(mean.too_few for mean in item_means):
            return too_few_responses(n, EstimateKind.INDEX)
        weights = self.weights()
        value = standard_error = 0.0
        for item, mean in zip(self.items, item_means, strict=True):
            value += weights[item.key] * item.to_0_100(mean.value or 0.0)
            scale = 100 / (item.scale_max - item.scale_min)
            standard_error += weights[item.key] * scale * (mean.standard_error or 0.0)
        return index_estimate(value, standard_error, n)

    def item_mean(self, item: IndexItem, item_sums: Mapping[str, MeanSums], min_n: int) -> Estimate:
        if item.key not in item_sums:
            raise MetricsError("metrics.index_no_scores_given", name=self.name, v_key=item.key)
        sums = item_sums[item.key]
        return mean_estimate(sums.n, sums.total, sums.total_of_squares, min_n=min_n)

    def score_row(self, row: Mapping[str, float], position: int) -> float:
        weights = self.weights()
        score = 0.0
        for item in self.items:
            if item.key not in row:
                raise MetricsError("metrics.row_item_not_answered", position=position,
                                   v_key=item.key)
            check_score(row[item.key], item.scale_min, item.scale_max, position)
            score += weights[item.key] * item.to_0_100(row[item.key])
        return score

    def from_rows(
        self, rows: Sequence[Mapping[str, float]], *, min_n: int = DEFAULT_MIN_N
    ) -> Estimate:
        """The index from respondent rows (item key -> score), every item answered in each row."""
        scores = [self.score_row(row, position) for position, row in enumerate(rows)]
        mean = mean_estimate(len(scores), sum(scores), sum(s * s for s in scores), min_n=min_n)
        if mean.too_few:
            return too_few_responses(mean.n, EstimateKind.INDEX)
        return replace(mean, kind=EstimateKind.INDEX)


def index_estimate(value: float, standard_error: float, n: int) -> Estimate:
    half = Z_95 * standard_error
    return Estimate(
        value=value,
        low=max(0.0, value - half),
        high=min(100.0, value + half),
        n=n,
        too_few=False,
        kind=EstimateKind.INDEX,
        standard_error=standard_error,
    )


# --- shares of answers clustered by respondent -----------------------------------------------


@dataclass(frozen=True)
class ClusterSums:
    """Per-respondent sums for a share of answers: `respondents` clusters, each with m_i answers
    of which k_i are top-box; kept as Σm, Σk, Σm², Σk², Σkm so databases can feed them."""

    respondents: int = 0
    answers: int = 0  # Σm
    top: int = 0  # Σk
    answers_sq: float = 0.0  # Σm²
    top_sq: float = 0.0  # Σk²
    cross: float = 0.0  # Σkm

    def add(self, m: int, k: int) -> ClusterSums:
        """These sums with one more respondent who gave m answers, k of them top-box."""
        return ClusterSums(self.respondents + 1, self.answers + m, self.top + k,
                           self.answers_sq + m * m, self.top_sq + k * k, self.cross + k * m)


def respondent_share(sums: ClusterSums, *, min_n: int = DEFAULT_MIN_N) -> Estimate:
    """The share (%) of top-box answers, Σk/Σm, with a 95% interval that accounts for several
    answers per respondent: the ratio estimator's cluster-robust (linearisation) variance
    Var = n/(n−1) · Σ(k_i − p·m_i)² / (Σm)², with n the respondents, who are also the n shown and
    decide "too few". Where every respondent's own share equals p (no spread to estimate from),
    the Wilson interval over the respondents is used instead (never narrower than that)."""
    check_min_n(min_n)
    n = sums.respondents
    if n < max(min_n, 1) or sums.answers == 0:
        return too_few_responses(n, EstimateKind.PROPORTION)
    p = sums.top / sums.answers
    residual = max(0.0, sums.top_sq - 2 * p * sums.cross + p * p * sums.answers_sq)
    if n < 2 or residual <= 1e-12:
        low, high = wilson_interval(round(p * n), n)
        return Estimate(100 * p, 100 * min(low, p), 100 * max(high, p), n, False,
                        EstimateKind.PROPORTION, 100 * math.sqrt(p * (1 - p) / n))
    standard_error = math.sqrt(n / (n - 1) * residual) / sums.answers
    return Estimate(100 * p, 100 * max(0.0, p - Z_95 * standard_error),
                    100 * min(1.0, p + Z_95 * standard_error), n, False,
                    EstimateKind.PROPORTION, 100 * standard_error)
