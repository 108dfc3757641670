"""Aspect sentiment on the demo's own comment phrases: text no model was trained or tuned on.

    PYTHONPATH=src .venv/bin/python bench/demo_aspects.py [--seed 18]

The demo writes its comments from phrase books (`tiyan.demo._phrases_*`): for each survey item,
phrases said when it went well and when it went badly, and mild ones ("{noun}还行吧" …). Each
phrase is a clause whose polarity is known by construction. This fills every phrase's slots ({very},
{waited}, {staff} …, seeded) and analyses it alone, as `tiyan text analyze` would, with the
taxonomy the demo uses for that survey (after-sales and sales: car_aftersales; hotel: hotel), and
scores every aspect found against the phrase's polarity:

- `aspect_accuracy`: aspects found whose label is the phrase's polarity (neutral counts as wrong);
- the same with two trivial readings of the same aspects: the clause's own document label
  (`document_label`) and every aspect positive (`all_positive`);
- `coverage`: phrases where at least one aspect was found.

No model is chosen or tuned on these phrases: they are what people see in the demo (the case page,
the text insights page), and this says how often the aspects there carry the right sentiment. Ends
by printing one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tiyan.demo import _phrases_after_sales, _phrases_hotel_en, _phrases_hotel_zh, _phrases_sales
from tiyan.demo._phrases_base import Phrasebook
from tiyan.text.pipeline import analyze_many

BOOKS = (
    ("after-sales zh", _phrases_after_sales.BOOK, "car_aftersales"),
    ("sales zh", _phrases_sales.BOOK, "car_aftersales"),
    ("hotel zh", _phrases_hotel_zh.BOOK, "hotel"),
    ("hotel en", _phrases_hotel_en.BOOK, "hotel"),
)
_SLOT = re.compile(r"\{(\w+)\}")


def phrases(book: Phrasebook, rng: random.Random) -> list[tuple[str, str, str]]:
    """(item code, polarity, filled phrase) for every phrase of the book; the mild phrases once per
    item, with one of its nouns."""
    found = []
    for code, aspect in {**book.ratings, **book.processes}.items():
        for polarity, templates in (("positive", aspect.positive), ("negative", aspect.negative)):
            found += [(code, polarity, fill(book, template, rng, "")) for template in templates]
        if aspect.nouns:
            noun = rng.choice(aspect.nouns)
            for polarity, templates in (
                ("positive", book.mild_positive),
                ("negative", book.mild_negative),
            ):
                template = rng.choice(templates)
                found.append((code, polarity, fill(book, template, rng, noun)))
    return found


def fill(book: Phrasebook, template: str, rng: random.Random, noun: str) -> str:
    def word(match: re.Match[str]) -> str:
        slot = match.group(1)
        return noun if slot == "noun" else rng.choice(book.slots[slot])

    return _SLOT.sub(word, template)


def score(name: str, book: Phrasebook, industry: str, rng: random.Random) -> dict:
    rows = phrases(book, rng)
    analyses = analyze_many([text for _, _, text in rows], industry)
    counts: Counter[str] = Counter()
    wrong: list[str] = []
    for (code, polarity, text), analysis in zip(rows, analyses, strict=True):
        counts["phrases"] += 1
        counts["covered"] += bool(analysis.aspects)
        for aspect in analysis.aspects:
            counts["aspects"] += 1
            counts["right"] += aspect.label == polarity
            counts["document_label"] += analysis.sentiment.label == polarity
            counts["all_positive"] += polarity == "positive"
            if aspect.label != polarity and len(wrong) < 400:
                wrong.append(f"{text} → {aspect.aspect} {aspect.label} (want {polarity}, {code})")
    aspects = max(counts["aspects"], 1)
    return {
        "book": name,
        "phrases": counts["phrases"],
        "coverage": round(counts["covered"] / counts["phrases"], 3),
        "aspects": counts["aspects"],
        "aspect_accuracy": round(counts["right"] / aspects, 3),
        "document_label": round(counts["document_label"] / aspects, 3),
        "all_positive": round(counts["all_positive"] / aspects, 3),
        "wrong": wrong,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--show-wrong", action="store_true", help="print each wrong aspect")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results = [score(name, book, industry, rng) for name, book, industry in BOOKS]
    for result in results:
        wrong = result.pop("wrong")
        print(json.dumps(result, ensure_ascii=False), file=sys.stderr)
        if args.show_wrong:
            print("\n".join(f"  {line}" for line in wrong), file=sys.stderr)
    total = sum(r["aspects"] for r in results)
    summary = {
        "phrases": sum(r["phrases"] for r in results),
        "aspects": total,
        "aspect_accuracy": round(
            sum(r["aspect_accuracy"] * r["aspects"] for r in results) / total, 3
        ),
        "document_label": round(
            sum(r["document_label"] * r["aspects"] for r in results) / total, 3
        ),
        "all_positive": round(sum(r["all_positive"] * r["aspects"] for r in results) / total, 3),
        "by_book": {r["book"]: [r["aspect_accuracy"], r["coverage"]] for r in results},
    }
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
