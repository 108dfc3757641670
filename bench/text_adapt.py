"""How much an installation's adaptation (tiyan.text.adaptation) learns from its users'
corrections, on a domain the base model never saw.

    .venv/bin/python bench/text_adapt.py [--domain waimai|hotel|car] [--steps 50,100,200,500]
                                         [--data ../shared/data] [--seed 0]

- waimai / hotel (document sentiment): the base is the Chinese sentiment model fitted as
  `tiyan text train` fits it (its ZH_CANDIDATE recipe), on the train splits of every other
  Chinese domain (the corpus left out). "Corrections" are the first n texts of the domain's
  shuffled train split with their labels (a person going through comments and setting each
  one's sentiment: where the model was right already, it is a confirmation). Reported:
  accuracy on the domain's test split.
- car (aspects of car_aspects_ccf2018, car_product taxonomy): the base reads aspects from the
  taxonomy's terms, each with the sentiment of its clause from the shipped Chinese sentiment
  model (no car text in its training) — the trained car aspect model, fitted on this corpus, is
  what is left out. A correction of a text sets each found aspect's label to the gold one,
  removes found aspects that are not in the gold, and adds missing ones quoting the clause of the
  annotated opinion word (when there is one). Reported: the share of gold aspects found with the
  right sentiment among those found (acc) and (aspect, sentiment) pair micro-F1 on test.

Each step fits the adaptation exactly as `tiyan text adapt` does on that many corrections.
Ends by printing one JSON line: {"domain": …, "steps": [[n, acc, pair_f1], …]} (step 0 is the
base model; pair_f1 is null for document-sentiment domains).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
SENTIMENT_CORPORA = {"waimai": "waimai_10k", "hotel": "chnsenticorp_htl",
                     "shopping": "online_shopping_10_cats"}
CAR_NAMES = {"动力": "power", "价格": "price", "内饰": "interior", "配置": "features",
             "安全性": "safety", "外观": "exterior", "操控": "handling",
             "油耗": "fuel_consumption", "空间": "space", "舒适性": "comfort"}


def rows_of(data: Path, corpus: str) -> list[dict[str, str]]:
    with (data / corpus / f"{corpus}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def base_sentiment_without(data: Path, left_out: str, seed: int):  # type: ignore[no-untyped-def]
    """The Chinese sentiment model fitted with the shipped recipe (`tiyan text train`'s
    ZH_CANDIDATE) on the train splits of every Chinese domain except `left_out`'s corpus."""
    from tiyan.text._domains import chinese_sentiment
    from tiyan.text._selection import fit_candidate
    from tiyan.text.sentiment import SentimentModel
    from tiyan.text.train import ZH_CANDIDATE

    rows = [r for r in chinese_sentiment(data) if r.split == "train" and r.corpus != left_out]
    linear = fit_candidate(ZH_CANDIDATE, rows, seed)
    return SentimentModel("zh", linear, ("negative", "positive")), len(rows)


def sentiment_steps(data: Path, domain: str, steps: Sequence[int],
                    seed: int) -> list[list[float | int | None]]:
    from tiyan.text.adaptation import Example, fit_layer, label_of

    corpus = SENTIMENT_CORPORA[domain]
    rows = rows_of(data, corpus)
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    random.Random(seed).shuffle(train)
    started = time.perf_counter()
    model, n_base = base_sentiment_without(data, corpus, seed)
    print(f"base: {n_base:,} texts of the other corpora, {time.perf_counter() - started:.0f} s",
          file=sys.stderr)

    def scores(texts: Sequence[str]) -> list[float]:
        return [s.score for s in model.predict(list(texts))]

    gold = [r["label"] for r in test]
    test_scores = scores([r["text"] for r in test])

    def accuracy(predicted: Sequence[str]) -> float:
        # the corpora are two-class: a text the models leave neutral counts as wrong
        return round(float(np.mean([p == g for p, g in zip(predicted, gold, strict=True)])), 4)

    out: list[list[float | int | None]] = [[0, accuracy([label_of(s) for s in test_scores]),
                                            None]]
    train_scores = scores([r["text"] for r in train[:max(steps)]])
    for n in steps:
        layer = fit_layer([Example(r["text"], s, r["label"])
                           for r, s in zip(train[:n], train_scores[:n], strict=True)])
        assert layer is not None
        adjusted = layer.adjust([r["text"] for r in test], test_scores)
        out.append([n, accuracy([label_of(s) for s, _ in adjusted]), None])
        print(f"{n} corrections: accuracy {out[-1][1]}", file=sys.stderr)
    return out


def car_steps(data: Path, steps: Sequence[int], seed: int) -> list[list[float | int | None]]:
    from tiyan.text.adaptation import (
        Adaptation,
        AspectChange,
        Example,
        Reviewed,
        fit_layer,
        learn_terms,
    )
    from tiyan.text.adapted import adapt_aspects
    from tiyan.text.aspects import AspectSentiment, _by_seed_terms, clause_at
    from tiyan.text.segment import segment, split_clauses
    from tiyan.text.taxonomy import load_taxonomy

    taxonomy = load_taxonomy("car_product")
    rows = rows_of(data, "car_aspects_ccf2018")
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    random.Random(seed).shuffle(train)

    def gold(row: dict[str, str]) -> dict[str, tuple[str, str]]:
        return {CAR_NAMES[a["aspect"]]: (a["sentiment"], a.get("word") or "")
                for a in json.loads(row["aspects"]) if a["aspect"] in CAR_NAMES}

    def base(texts: Sequence[str]) -> list[list[AspectSentiment]]:
        return _by_seed_terms(texts, ["zh"] * len(texts), range(len(texts)), "car_product")

    def figures(found: Sequence[list[AspectSentiment]]) -> tuple[float, float]:
        tp = fp = fn = right = matched = 0
        for row, aspects in zip(test, found, strict=True):
            truth = {(code, label) for code, (label, _) in gold(row).items()}
            guess = {(a.aspect, a.label) for a in aspects}
            tp, fp, fn = tp + len(truth & guess), fp + len(guess - truth), fn + len(truth - guess)
            codes = {a.aspect: a.label for a in aspects}
            for code, (label, _) in gold(row).items():
                if code in codes:
                    matched += 1
                    right += codes[code] == label
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        return round(right / matched, 4) if matched else 0.0, round(f1, 4)

    test_found = base([r["text"] for r in test])
    acc, f1 = figures(test_found)
    out: list[list[float | int | None]] = [[0, acc, f1]]
    train_found = base([r["text"] for r in train[:max(steps)]])
    for n in steps:
        examples, changes, reviewed = [], [], []
        for row, found in zip(train[:n], train_found[:n], strict=True):
            truth = gold(row)
            by_code = {a.aspect: a for a in found}
            for code, a in by_code.items():
                if code in truth:
                    examples.append(Example(a.evidence, a.score, truth[code][0], code, a.label))
                else:
                    terms = tuple(m.term for m in taxonomy.find_mentions(a.evidence)
                                  if m.aspect.code == code)
                    changes.append(AspectChange(code, False, a.evidence, terms))
            for code, (label, word) in truth.items():
                if code in by_code or not word or word not in row["text"]:
                    continue
                clause = clause_at(split_clauses(row["text"]), row["text"].index(word))
                quote = clause.text if clause is not None else word
                changes.append(AspectChange(code, True, quote))
                examples.append(Example(quote, 0.0, label, code))
            reviewed.append(Reviewed(row["text"], frozenset(truth)))
        added, dropped = learn_terms(changes, reviewed, segment)
        layer = fit_layer(examples)
        adaptation = Adaptation({}, {"zh": layer} if layer else {}, added, dropped)
        adapted = adapt_aspects(adaptation, [r["text"] for r in test], ["zh"] * len(test),
                                test_found, taxonomy)
        acc, f1 = figures(adapted)
        out.append([n, acc, f1])
        print(f"{n} corrections: aspect-sentiment accuracy {acc}, pair-F1 {f1}; "
              f"{sum(map(len, added.values()))} terms added, "
              f"{sum(map(len, dropped.values()))} dropped", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", choices=["waimai", "hotel", "car"], default="hotel")
    parser.add_argument("--steps", default="50,100,200,500")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    if args.domain == "car":
        result = car_steps(args.data, steps, args.seed)
    else:
        result = sentiment_steps(args.data, args.domain, steps, args.seed)
    print(json.dumps({"domain": args.domain, "steps": result}))


if __name__ == "__main__":
    main()
