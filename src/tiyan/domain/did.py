"""Difference-in-differences: the measured effect of an action plan on a KPI.

effect = (treated after - treated before) - (control after - control before)

Two ways in, and the standard error each uses:

- `did_from_units` (recommended): one before/after KPI value per unit. Each unit's change is one
  observation; the SE is Welch's, sqrt(var(Δ_treated)/n_t + var(Δ_control)/n_c), with a Student-t
  CI on Welch-Satterthwaite degrees of freedom. Responses within a unit are not assumed
  independent, so it is honest when units differ; it needs at least 2 treated and 2 control units.
- `did_from_estimates`: the four cell figures (any `Estimate` with a standard error: NPS, mean,
  proportion, index) from response-level data. SE = sqrt of the sum of the four squared SEs,
  normal CI.
  It assumes the four cells are independent samples of responses (different respondents), and
  ignores unit-level clustering, so with few units it is too narrow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from scipy import special

from tiyan.domain.metrics import Estimate, MetricsError
from tiyan.domain.statistics import ALPHA


class DidMethod(StrEnum):
    UNIT_LEVEL = "unit_level"
    RESPONSE_LEVEL = "response_level"


@dataclass(frozen=True)
class UnitKpi:
    """One unit's KPI in the period before and the period after the plan started."""

    unit_id: str
    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class DidResult:
    effect: float
    standard_error: float
    low: float
    high: float
    p_value: float
    significant: bool
    n_treated: int  # units (unit level) or responses after (response level)
    n_control: int
    method: DidMethod


def sample_mean_variance(values: Sequence[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    return mean, sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def did_from_units(
    treated: Sequence[UnitKpi], control: Sequence[UnitKpi], *, alpha: float = ALPHA
) -> DidResult:
    """DiD from unit-level before/after KPIs, Welch SE and t-based CI."""
    if len(treated) < 2 or len(control) < 2:
        raise MetricsError(
            "did.did_units_needs_treated", n_treated=len(treated), n_control=len(control)
        )
    overlap = {u.unit_id for u in treated} & {u.unit_id for u in control}
    if overlap:
        raise MetricsError("did.units_both_treated_control", overlap=sorted(overlap))
    mean_t, var_t = sample_mean_variance([u.change for u in treated])
    mean_c, var_c = sample_mean_variance([u.change for u in control])
    v_t, v_c = var_t / len(treated), var_c / len(control)
    se = math.sqrt(v_t + v_c)
    df = welch_df(v_t, len(treated), v_c, len(control))
    return result(
        mean_t - mean_c, se, df, alpha, (len(treated), len(control)), DidMethod.UNIT_LEVEL
    )


def welch_df(v1: float, n1: int, v2: float, n2: int) -> float:
    if v1 + v2 == 0:
        return float(n1 + n2 - 2)
    return (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))


def did_from_estimates(
    treated_before: Estimate,
    treated_after: Estimate,
    control_before: Estimate,
    control_after: Estimate,
    *,
    alpha: float = ALPHA,
) -> DidResult:
    """DiD from four independent response-level figures of one kind, normal CI."""
    cells = (treated_before, treated_after, control_before, control_after)
    if len({cell.kind for cell in cells}) != 1:
        raise MetricsError("did.did_estimates_four_figures")
    for name, cell in zip(
        ("treated before", "treated after", "control before", "control after"), cells, strict=True
    ):
        if cell.value is None or cell.standard_error is None:
            raise MetricsError("did.did_estimates_too_few", name=name)
    tb, ta, cb, ca = (cell.value or 0.0 for cell in cells)
    se = math.sqrt(sum((cell.standard_error or 0.0) ** 2 for cell in cells))
    return result(
        (ta - tb) - (ca - cb),
        se,
        None,
        alpha,
        (treated_after.n, control_after.n),
        DidMethod.RESPONSE_LEVEL,
    )


def result(
    effect: float,
    se: float,
    df: float | None,
    alpha: float,
    sizes: tuple[int, int],
    method: DidMethod,
) -> DidResult:
    no_spread = 1.0 if effect == 0 else 0.0
    p_value = no_spread if se == 0 else 2 * tail(-abs(effect) / se, df)
    half = float(special.ndtri(1 - alpha / 2) if df is None
                 else special.stdtrit(df, 1 - alpha / 2)) * se
    return DidResult(
        effect,
        se,
        effect - half,
        effect + half,
        p_value,
        p_value < alpha,
        sizes[0],
        sizes[1],
        method,
    )


def tail(x: float, df: float | None) -> float:
    """P(X <= x) for Student's t with `df` degrees of freedom, or the standard normal (None)."""
    return float(special.ndtr(x) if df is None else special.stdtr(df, x))
