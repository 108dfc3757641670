"""The labelled corpora of `shared/data` cut into *domains*, for training and leave-one-domain-out.

A domain is one source of feedback the models may meet on its own: waimai (food delivery), the
ChnSentiCorp hotel reviews, each of online_shopping_10_cats's ten categories, each product of
chinese_absa, and for English the airline tweets and the TripAdvisor hotel reviews. Model choices
are made by training on all domains but one and scoring the one left out (see
docs/models/text.md); only `train` and `dev` rows take part in choices, `test` is reported.

Training only (reads CSV files); inference never imports this module.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

ABSA = "chinese_absa"
# domain -> the product industry whose own weights it may train (None: shared weights only).
# Food delivery is not the restaurant industry: waimai trains no industry copy.
INDUSTRY_OF_CORPUS = {"chnsenticorp_htl": "hotel", "online_shopping_10_cats": "retail"}


class TrainingDataError(ValueError):
    """A corpus file is missing or lacks a column training needs."""


@dataclass(frozen=True)
class Labelled:
    """One labelled text of a domain (label: 1 positive / 0 negative, or a class index)."""

    text: str
    label: int
    domain: str
    split: str
    corpus: str


def read_csv(data: Path, name: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of `data/<name>/<name>.csv`, checking that `columns` (and `split`) are there."""
    path = data / name / f"{name}.csv"
    if not path.is_file():
        raise TrainingDataError(
            f"{path}: corpus file not found (is --data the shared/data folder?)"
        )
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in (*columns, "split") if c not in (reader.fieldnames or [])]
        if missing:
            raise TrainingDataError(f'{path}: missing column "{missing[0]}"')
        return list(reader)


def chinese_sentiment(data: Path) -> list[Labelled]:
    """Binary Chinese sentiment over 18 domains (sentences of chinese_absa whose aspects all
    share one polarity, positive or negative, are labelled with it; the others are left out)."""
    rows: list[Labelled] = []
    for row in read_csv(data, "waimai_10k", ("text", "label")):
        rows.append(_binary(row, "waimai", "waimai_10k"))
    for row in read_csv(data, "chnsenticorp_htl", ("text", "label")):
        rows.append(_binary(row, "hotel", "chnsenticorp_htl"))
    for row in read_csv(data, "online_shopping_10_cats", ("text", "label", "category")):
        rows.append(_binary(row, f"shopping/{row['category']}", "online_shopping_10_cats"))
    for row in read_csv(data, ABSA, ("text", "aspects", "domain")):
        polarities = {item["sentiment"] for item in json.loads(row["aspects"])}
        if polarities in ({"positive"}, {"negative"}):
            label = int(polarities == {"positive"})
            rows.append(Labelled(row["text"], label, f"absa/{row['domain']}", row["split"], ABSA))
    return rows


def _binary(row: dict[str, str], domain: str, corpus: str) -> Labelled:
    return Labelled(row["text"], int(row["label"] == "positive"), domain, row["split"], corpus)


EN_CLASSES = ("negative", "neutral", "positive")


def english_sentiment(data: Path) -> list[Labelled]:
    """Three-class English sentiment over two domains: airline tweets, hotel reviews."""
    rows: list[Labelled] = []
    for row in read_csv(data, "twitter_airline", ("text", "label")):
        label = EN_CLASSES.index(row["label"])
        rows.append(Labelled(row["text"], label, "airline", row["split"], "twitter_airline"))
    for row in read_csv(data, "tripadvisor_hotels_en", ("text", "label")):
        label = EN_CLASSES.index(row["label"])
        rows.append(Labelled(row["text"], label, "hotel", row["split"], "tripadvisor_hotels_en"))
    return rows
