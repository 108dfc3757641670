"""Aspect sentiment on a domain left out: how the opinion model's recipe and blend are chosen.

    PYTHONPATH=src .venv/bin/python bench/aspect_lodo.py [--data ../shared/data]

The opinion model (`tiyan.text._opinion`) learns mostly from product reviews (chinese_absa) and
car forum posts; customers' comments are about services. So each recipe is also judged on a
domain it has not seen: for each short-review corpus (waimai_10k, chnsenticorp_htl,
online_shopping_10_cats) the opinion model **and** the document model are fitted without that
corpus, and the corpus's dev reviews of at most 30 characters with no contrast word (但, 不过,
就是 …: one opinion) are read aspect by aspect with its industry's taxonomy (restaurant, hotel,
retail). Every aspect found gets the review's label as its gold label (a silver label: a one-opinion
review says the same about everything it names). The in-domain figure is chinese_absa dev (terms
given, the blend), with the models fitted on every corpus. The demo's own phrases
(`bench/demo_aspects.py`, never used to choose) are read as a last, unseen check.

Compared: the recipe before (unbalanced, terms always masked, short reviews as a whole only, blend
weight 0.6) and the one shipped (`_opinion_training.Recipe()`) with the blend shipped (weight 1.0
times the opinion model's largest probability for each row), without and with the document model
deciding the spans it is sure of (`_opinion.document_decides`) from a margin of 0.4 to 0.8. (The
fixed weights 0.4 to 1.0 and 0.8 × confidence, compared by the run before, are in the model card.)
Then, at that margin (0.6), each term's reading pulled towards its whole comment's document
reading (`_opinion.towards_comment`) by COMMENT_PULL (0.4 to 1.0) times the reading's strength,
and by TURN_COMMENT_PULL (0 up to COMMENT_PULL) where the comment turns (但是, 不过 …). The rule
(`_opinion.DOCUMENT_SURE`, `COMMENT_PULL`, `TURN_COMMENT_PULL`): the best left-out mean among the
settings whose chinese_absa dev accuracy is at most 1 point below the recipe before, ties going to
the better chinese_absa dev accuracy. Since the comment's reading is evidence only where the
comment holds one opinion, the left-out mean is taken over two kinds of comment, equally weighted:
the one-opinion reviews above, and comments of two opinions with no contrast word (a positive and
a negative one-opinion review of the left-out corpus joined by "，", each aspect that only one of
them names labelled with that review's label; `two_opinions`). The trivial baseline on the same
aspects (each aspect gets its review's document label, from the left-out document model) is
reported beside them. Last, at the blend setting shipped, the short clause after a term's own
clause that its span takes in (`_opinion.OPINION_TAIL`: "服务员一直催我们点菜，很烦"), from 0
(never, as every row before) to 15 characters, the opinion model refitted on the same spans
each time; the same rule chooses among all rows. Ends by printing one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import demo_aspects  # noqa: E402

import tiyan.text._opinion as opinion  # noqa: E402
import tiyan.text.aspects as aspects  # noqa: E402
from tiyan.text import _opinion_training as training  # noqa: E402
from tiyan.text._domains import chinese_sentiment, read_csv  # noqa: E402
from tiyan.text._selection import fit_candidate  # noqa: E402
from tiyan.text.sentiment import SentimentModel, load_sentiment_model  # noqa: E402
from tiyan.text.train import ZH_CANDIDATE, macro_f1  # noqa: E402

LEFT_OUT = {
    "waimai_10k": "restaurant",
    "chnsenticorp_htl": "hotel",
    "online_shopping_10_cats": "retail",
}
ONE_OPINION = re.compile("但|不过|可是|就是|只是|然而|虽然|除了")
# (blend weight, weighted by the opinion model's confidence)
NO_PULL = (0.0, 0.0)
SETTINGS = (  # (weight, × confidence, DOCUMENT_SURE, (COMMENT_PULL, TURN_COMMENT_PULL))
    (1.0, True, None, NO_PULL),
    (1.0, True, 0.4, NO_PULL),
    (1.0, True, 0.5, NO_PULL),
    (1.0, True, 0.6, NO_PULL),
    (1.0, True, 0.7, NO_PULL),
    (1.0, True, 0.8, NO_PULL),
    *(
        (1.0, True, 0.6, (pull, turn))
        for pull in (0.4, 0.6, 0.8, 1.0)
        for turn in (0.0, 0.2, 0.5, 1.0)
        if turn <= pull
    ),
)
BEFORE = (
    training.Recipe(balanced=False, opinion_terms_visible=False),
    (0.6, False, None, NO_PULL),
)
# the short clause after a term's clause that its span takes in (`_opinion.OPINION_TAIL`), compared
# at the blend setting shipped; 0: never (the rounds before). The grid of SETTINGS runs at 0.
TAILS = (0, 4, 6, 8, 10, 15)
SHIPPED_SETTING = (1.0, True, 0.6, (0.8, 0.0))


def silver(data: Path, corpus: str) -> tuple[list[str], list[str]]:
    rows = [
        r
        for r in read_csv(data, corpus, ("text", "label"))
        if r["split"] == "dev"
        and len(r["text"].strip()) <= 30
        and not ONE_OPINION.search(r["text"])
    ]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def two_opinions(
    texts: list[str], gold: list[str], industry: str
) -> tuple[list[str], list[dict[str, str]]]:
    """Comments of two opinions and no contrast word ("菜很好吃，服务员态度很差"): a positive and a
    negative one-opinion review (seeded pairing, the order alternating) joined by "，". Each
    aspect that only one of the two names gets that review's label; an aspect both name is left
    out."""
    rng = random.Random(18)
    positive = [t for t, g in zip(texts, gold, strict=True) if g == "positive"]
    negative = [t for t, g in zip(texts, gold, strict=True) if g == "negative"]
    rng.shuffle(positive)
    rng.shuffle(negative)
    combined, expected = [], []
    for index, (good, bad) in enumerate(zip(positive, negative, strict=False)):
        parts = [(good, "positive"), (bad, "negative")]
        if index % 2:
            parts.reverse()
        found = aspects.find_aspects([p for p, _ in parts], ["zh", "zh"], industry)
        codes = [{a.aspect for a in per_part} for per_part in found]
        labels = {
            code: label
            for (_, label), own, other in zip(parts, codes, codes[::-1], strict=True)
            for code in own - other
        }
        if labels:
            combined.append(parts[0][0].strip().rstrip("。！!.~～ ") + "，" + parts[1][0].strip())
            expected.append(labels)
    return combined, expected


def two_opinion_accuracy(texts: list[str], expected: list[dict[str, str]], industry: str) -> float:
    found = aspects.find_aspects(texts, ["zh"] * len(texts), industry)
    pairs = [
        (labels[a.aspect], a.label)
        for labels, per_text in zip(expected, found, strict=True)
        for a in per_text
        if a.aspect in labels
    ]
    return sum(g == p for g, p in pairs) / len(pairs)


Setting = tuple[float, bool, float | None, tuple[float, float]]
FIGURES = ("left_out_mean", "two_opinions_mean", "rule_mean", "chinese_absa_dev", "demo_phrases_zh")


def reading_with(
    model: opinion.OpinionModel, document: SentimentModel, setting: Setting
) -> None:
    """Make `find_aspects` read with these models and this blend."""
    aspects.load_opinion_model = lambda: model  # type: ignore[assignment]
    aspects.load_sentiment_model = (  # type: ignore[assignment]
        lambda language: document if language == "zh" else load_sentiment_model(language)
    )
    opinion.OPINION_WEIGHT, opinion.BY_CONFIDENCE, opinion.DOCUMENT_SURE, pulls = setting
    opinion.COMMENT_PULL, opinion.TURN_COMMENT_PULL = pulls


def silver_accuracy(texts: list[str], gold: list[str], industry: str) -> float:
    found = aspects.find_aspects(texts, ["zh"] * len(texts), industry)
    pairs = [(g, a.label) for g, per_text in zip(gold, found, strict=True) for a in per_text]
    return sum(g == p for g, p in pairs) / len(pairs)


def document_label_accuracy(
    texts: list[str], gold: list[str], industry: str, document: SentimentModel
) -> float:
    """The trivial baseline on the same aspects: each gets its review's document label."""
    found = aspects.find_aspects(texts, ["zh"] * len(texts), industry)
    labels = [s.label for s in document.predict(texts)]
    pairs = [(g, label) for g, label, per_text in zip(gold, labels, found, strict=True)
             for _ in per_text]
    return sum(g == p for g, p in pairs) / len(pairs)


def absa_dev(model: opinion.OpinionModel, document: SentimentModel, data: Path) -> list[float]:
    examples = [e for _, e in training.absa_examples(data, "dev")]
    targets = [e.target for e in examples]
    gold = [opinion.CLASSES[e.label] for e in examples]
    others = [e.others for e in examples]
    probabilities = model.probabilities(targets, others)
    mixed, decided = opinion.blend_of(targets, others, probabilities, document.probabilities)
    labels = [
        opinion.label_and_score(row, opinion.NEUTRAL_BAND, int(rule))[0]
        for row, rule in zip(mixed, decided, strict=True)
    ]
    accuracy = float(np.mean([g == p for g, p in zip(gold, labels, strict=True)]))
    return [round(accuracy, 4), round(macro_f1(gold, labels), 4)]


def demo_accuracy() -> float:
    rng = random.Random(18)
    results = [demo_aspects.score(n, b, i, rng) for n, b, i in demo_aspects.BOOKS[:3]]
    total = sum(r["aspects"] for r in results)
    return round(sum(r["aspect_accuracy"] * r["aspects"] for r in results) / total, 3)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = chinese_sentiment(args.data)
    # (name, recipe, tail, settings): the grid of blend settings at tail 0, then the tails
    recipes = [
        ("before", BEFORE[0], 0, (BEFORE[1],)),
        ("shipped", training.Recipe(), 0, SETTINGS),
        *(("shipped", training.Recipe(), tail, (SHIPPED_SETTING,)) for tail in TAILS if tail),
    ]
    table: dict[tuple, dict] = {}
    baseline: dict[str, float] = {}
    for corpus, industry in LEFT_OUT.items():
        texts, gold = silver(args.data, corpus)
        mixed: tuple[list[str], list[dict[str, str]]] | None = None
        train = [r for r in rows if r.split == "train" and r.corpus != corpus]
        document = SentimentModel(
            "zh", fit_candidate(ZH_CANDIDATE, train, 0), ("negative", "positive")
        )
        for name, recipe, tail, settings in recipes:
            training.SHORT_CORPORA = tuple(c for c in LEFT_OUT if c != corpus)
            opinion.OPINION_TAIL = tail
            model = training.fit_opinion_model(
                args.data, 0, lambda line: None, document.probabilities, recipe=recipe
            )
            for setting in settings:
                reading_with(model, document, setting)
                if mixed is None:  # which aspect each part names does not depend on the reading
                    mixed = two_opinions(texts, gold, industry)
                table.setdefault((name, tail, setting), {})[corpus] = round(
                    silver_accuracy(texts, gold, industry), 4
                )
                table.setdefault((name, tail, setting, "two"), {})[corpus] = round(
                    two_opinion_accuracy(*mixed, industry), 4
                )
            if name == "shipped" and tail == 0:
                baseline[corpus] = round(
                    document_label_accuracy(texts, gold, industry, document), 4
                )
        print(f"left out {corpus}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    training.SHORT_CORPORA = tuple(LEFT_OUT)
    document = load_sentiment_model("zh")
    lines = []
    for name, recipe, tail, settings in recipes:
        opinion.OPINION_TAIL = tail
        model = training.fit_opinion_model(
            args.data, 0, lambda line: None, document.probabilities, recipe=recipe
        )
        for setting in settings:
            reading_with(model, document, setting)
            left_out = table[(name, tail, setting)]
            two = table[(name, tail, setting, "two")]
            one_mean = float(np.mean(list(left_out.values())))
            two_mean = float(np.mean(list(two.values())))
            line = {
                "recipe": name,
                "opinion_tail": tail,
                "weight": setting[0],
                "by_confidence": setting[1],
                "document_sure": setting[2],
                "comment_pull": setting[3][0],
                "turn_comment_pull": setting[3][1],
                "left_out_mean": round(one_mean, 4),
                "left_out": left_out,
                "two_opinions_mean": round(two_mean, 4),
                "two_opinions": two,
                "rule_mean": round((one_mean + two_mean) / 2, 4),
                "chinese_absa_dev": absa_dev(model, document, args.data),
                "demo_phrases_zh": demo_accuracy(),
            }
            lines.append(line)
            print(json.dumps(line, ensure_ascii=False), file=sys.stderr)
    before = next(line for line in lines if line["recipe"] == "before")
    allowed = [
        line
        for line in lines
        if line["recipe"] == "shipped"
        and line["chinese_absa_dev"][0] >= before["chinese_absa_dev"][0] - 0.01
    ]
    # ties on the left-out mean (a turn's pull never shows there: the silver reviews do not
    # turn) go to the better chinese_absa dev accuracy
    chosen = (
        max(allowed, key=lambda line: (line["rule_mean"], line["chinese_absa_dev"][0]))
        if allowed
        else before
    )
    print(
        json.dumps(
            {
                "rows": lines,
                "chosen_weight": chosen["weight"],
                "chosen_by_confidence": chosen["by_confidence"],
                "chosen_document_sure": chosen["document_sure"],
                "chosen_comment_pull": [chosen["comment_pull"], chosen["turn_comment_pull"]],
                "chosen_opinion_tail": chosen["opinion_tail"],
                "chosen": {k: chosen[k] for k in FIGURES},
                "before": {k: before[k] for k in FIGURES},
                "document_label_per_aspect": {
                    "left_out": baseline,
                    "left_out_mean": round(float(np.mean(list(baseline.values()))), 4),
                },
                "seconds": round(time.perf_counter() - started),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
