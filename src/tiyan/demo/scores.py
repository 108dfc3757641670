"""How the demo's scores arise: a latent experience per visit, shaped by the unit, the staff
member, the month and what went wrong, turned into item scores, CSAT and NPS.

The items drive the outcome with known weights, so key-driver analysis on the demo finds them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

# Relative weight of each after-sales item in the overall experience.
AFTER_SALES_WEIGHTS = {
    "sat_work_quality": 0.30, "sat_advisor": 0.22, "sat_work_time": 0.14,
    "sat_explanation": 0.10, "sat_charges_fair": 0.12, "sat_reception_wait": 0.06,
    "sat_car_clean": 0.04, "sat_lounge": 0.02,
}
# Base chance that each process step happens, before the unit's and advisor's quality.
PROCESS_BASE = {
    "proc_appointment": 0.80, "proc_cost_estimate": 0.90, "proc_time_estimate": 0.88,
    "proc_refreshments": 0.93, "proc_inspect_invite": 0.70, "proc_advice": 0.82,
    "proc_on_time": 0.86, "proc_work_complete": 0.95, "proc_followup_call": 0.72,
}
# A missed process step hurts these items.
PROCESS_HURTS = {
    "proc_cost_estimate": ("sat_explanation", "sat_charges_fair"),
    "proc_time_estimate": ("sat_work_time",),
    "proc_refreshments": ("sat_lounge",),
    "proc_on_time": ("sat_work_time", "sat_advisor"),
    "proc_work_complete": ("sat_work_quality", "sat_advisor"),
    "proc_inspect_invite": ("sat_advisor",),
    "proc_advice": ("sat_advisor",),
}
HOTEL_WEIGHTS = {
    "room_cleanliness": 0.18, "room_bedding": 0.08, "room_temperature": 0.05, "room_quiet": 0.12,
    "dining_choice": 0.03, "dining_taste": 0.06, "dining_speed": 0.03, "fac_gym": 0.01,
    "fac_pool": 0.01, "fac_spa": 0.01, "service_front_desk": 0.10, "service_room": 0.04,
    "service_attitude": 0.14, "price_reasonable": 0.07, "price_transparent": 0.03,
    "personal_care": 0.04,
}
SALES_WEIGHTS = {"lead_response": 0.15, "consultation": 0.35, "test_drive": 0.15,
                 "delivery": 0.25, "aftersales_intro": 0.10}


def five_point(z: float) -> int:
    return max(1, min(5, round(4.0 + 0.95 * z)))


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def outcome_scores(rng: random.Random, weights: Mapping[str, float],
                   latent: Mapping[str, float]) -> dict[str, int]:
    """Overall CSAT (1–5) and NPS (0–10) from the weighted item experience."""
    total = sum(weights[k] for k in latent)
    u = sum(weights[k] * latent[k] for k in latent) / total + rng.gauss(0, 0.22)
    return {"csat": five_point(u),
            "nps": max(0, min(10, round(8.8 + 2.1 * u + rng.gauss(0, 0.8))))}


def after_sales_visit(rng: random.Random, quality: float) -> dict[str, int | bool]:
    """One after-sales visit: 9 process items, 8 satisfaction items, overall CSAT and NPS."""
    scores: dict[str, int | bool] = {}
    hurt: dict[str, float] = {}
    for code, base in PROCESS_BASE.items():
        done = rng.random() < _logistic(_logit(base) + 1.6 * quality)
        scores[code] = done
        if not done:
            for item in PROCESS_HURTS.get(code, ()):
                hurt[item] = hurt.get(item, 0.0) + 0.9
    visit = quality + rng.gauss(0, 0.45)
    latent = {item: visit + rng.gauss(0, 0.55) - hurt.get(item, 0.0)
              for item in AFTER_SALES_WEIGHTS}
    scores.update({item: five_point(z) for item, z in latent.items()})
    scores.update(outcome_scores(rng, AFTER_SALES_WEIGHTS, latent))
    return scores


def hotel_stay(rng: random.Random, quality: float,
               optional: Sequence[str]) -> dict[str, int | bool]:
    """One hotel stay; optional facilities are rated only by guests who used them."""
    stay = quality + rng.gauss(0, 0.5)
    latent = {}
    for item in HOTEL_WEIGHTS:
        if item in optional and rng.random() < 0.55:
            continue
        latent[item] = stay + rng.gauss(0, 0.6)
    scores: dict[str, int | bool] = {item: five_point(z) for item, z in latent.items()}
    scores.update(outcome_scores(rng, HOTEL_WEIGHTS, latent))
    return scores


def car_purchase(rng: random.Random, quality: float) -> dict[str, int | bool]:
    journey = quality + 0.2 + rng.gauss(0, 0.45)
    latent = {tp: journey + rng.gauss(0, 0.5) for tp in SALES_WEIGHTS}
    latent["delivery"] -= 0.25 if rng.random() < 0.15 else 0.0  # the end is sometimes rushed
    scores: dict[str, int | bool] = {tp: five_point(z) for tp, z in latent.items()}
    scores.update(outcome_scores(rng, SALES_WEIGHTS, latent))
    return scores
