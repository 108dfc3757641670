"""Measure PII redaction on a generated corpus: recall and precision per kind and overall.

    .venv/bin/python bench/redaction.py                 # 10,000 texts, seed 7
    .venv/bin/python bench/redaction.py --n 5000 --seed 1

A gold span is *found* when one finding of the same kind covers all of it. A finding is *right*
when at least half of it lies on a gold span of the same kind. The last line printed is one JSON
object: {"recall": …, "precision": …, "per_kind": {kind: {"recall", "precision", "gold", "found"}},
"texts": n, "texts_per_second": …}.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Sequence

from tiyan.text.pii_corpus import GoldSpan, LabelledText, generate_pii_corpus
from tiyan.text.redact import KINDS, Finding, find_pii


def covers(finding: Finding, gold: GoldSpan) -> bool:
    return finding.kind == gold.kind and finding.start <= gold.start and finding.end >= gold.end


def mostly_on_gold(finding: Finding, golds: Sequence[GoldSpan]) -> bool:
    for gold in golds:
        overlap = min(finding.end, gold.end) - max(finding.start, gold.start)
        if gold.kind == finding.kind and overlap * 2 >= finding.end - finding.start:
            return True
    return False


def score(corpus: Sequence[LabelledText], predictions: Sequence[tuple[Finding, ...]]) -> dict:
    counts: Counter[str] = Counter()
    for item, findings in zip(corpus, predictions, strict=True):
        for gold in item.spans:
            counts[f"gold:{gold.kind}"] += 1
            counts[f"found:{gold.kind}"] += any(covers(f, gold) for f in findings)
        for finding in findings:
            counts[f"predicted:{finding.kind}"] += 1
            counts[f"right:{finding.kind}"] += mostly_on_gold(finding, item.spans)
    return summary(counts)


def ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def summary(counts: Counter[str]) -> dict:
    per_kind = {
        kind: {
            "recall": ratio(counts[f"found:{kind}"], counts[f"gold:{kind}"]),
            "precision": ratio(counts[f"right:{kind}"], counts[f"predicted:{kind}"]),
            "gold": counts[f"gold:{kind}"],
            "found": counts[f"predicted:{kind}"],
        }
        for kind in KINDS
    }
    total = {
        name: sum(counts[f"{name}:{kind}"] for kind in KINDS)
        for name in ("gold", "found", "predicted", "right")
    }
    return {
        "recall": ratio(total["found"], total["gold"]),
        "precision": ratio(total["right"], total["predicted"]),
        "per_kind": per_kind,
    }


def show_misses(
    corpus: Sequence[LabelledText], predictions: Sequence[tuple[Finding, ...]], limit: int
) -> None:
    shown = 0
    for item, findings in zip(corpus, predictions, strict=True):
        missed = [g for g in item.spans if not any(covers(f, g) for f in findings)]
        wrong = [f for f in findings if not mostly_on_gold(f, item.spans)]
        for gold in missed:
            print(f"MISSED {gold.kind}: {item.text[gold.start : gold.end]!r} in {item.text!r}")
        for finding in wrong:
            print(
                f"WRONG {finding.kind}: {item.text[finding.start : finding.end]!r} in {item.text!r}"
            )
        shown += bool(missed or wrong)
        if shown >= limit:
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=10_000, help="texts to generate (at least 5,000 for the report)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--show", type=int, default=0, help="print up to this many texts with errors"
    )
    args = parser.parse_args()
    corpus = generate_pii_corpus(args.n, args.seed)
    started = time.perf_counter()
    predictions = [find_pii(item.text) for item in corpus]
    elapsed = time.perf_counter() - started
    result = score(corpus, predictions)
    result["texts"] = args.n
    result["texts_per_second"] = round(args.n / elapsed)
    if args.show:
        show_misses(corpus, predictions, args.show)
    for kind, figures in result["per_kind"].items():
        recall, precision = figures["recall"], figures["precision"]
        print(f"{kind:10} recall {recall:.4f}  precision {precision:.4f}  gold {figures['gold']}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
