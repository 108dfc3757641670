"""Comments that only ask, for information or for a service: how often tiyan reads them neutral,
and what that costs on reviews.

    PYTHONPATH=src .venv/bin/python bench/questions.py [--data ../shared/data]

The Chinese document model learned two classes from reviews, whose questions nearly all complain,
so it reads "请问酒店有停车场吗？" and "请帮我查一下话费" as complaints. `tiyan.text._questions`
reads a comment that only asks as neutral. Measured, each against the reference — the same
model without the rule — in one run:

1. `bench/data/questions_zh.tsv`: 160 customer messages written for this check and never used to
   write or tune the rules (60 questions for information, 50 complaints put as questions, 20
   messages that both say something and ask, 30 statements). Per kind: how many the rule calls
   "only asks", and the document labels without and with it. Wanted: questions neutral, every
   other kind untouched.
2. `bench/data/service_zh.tsv`: 140 single utterances of customer-service chats and calls,
   written the same way (50 neutral requests for a service, 30 neutral facts, 40 complaints, 20
   praise): per kind as above, and the accuracy and balanced accuracy of the document label
   (request and fact neutral, complaint negative, praise positive).
3. The shared corpora's test splits (waimai_10k, chnsenticorp_htl, online_shopping_10_cats:
   reviews labelled positive or negative, so a neutral reading is never right there), read with
   the industry `eval/text_eval.py` passes: how many reviews the rule turns neutral, and the
   accuracy without and with it as that script scores it (a neutral reading counts by its
   score's sign, 0 as negative).

Ends by printing one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tiyan.text._domains import read_csv  # noqa: E402
from tiyan.text._questions import only_asks  # noqa: E402
from tiyan.text.sentiment import load_sentiment_model, predict_by_language  # noqa: E402

MESSAGES = ROOT / "bench" / "data" / "questions_zh.tsv"
SERVICE = ROOT / "bench" / "data" / "service_zh.tsv"
# the label a careful annotator gives each kind of service utterance
SERVICE_GOLD = {
    "request": "neutral",
    "fact": "neutral",
    "complaint": "negative",
    "praise": "positive",
}
CORPORA = {
    "waimai_10k": "restaurant",
    "chnsenticorp_htl": "hotel",
    "online_shopping_10_cats": "retail",
}


def polarity(label: str, score: float) -> str:
    """The two-class label `eval/text_eval.py` scores: the label, or a neutral one's sign."""
    if label in ("positive", "negative"):
        return label
    return "positive" if score > 0 else "negative"


def _rows(path: Path) -> list[list[str]]:
    return [
        line.rstrip("\n").split("\t")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def by_kind(path: Path, kinds: Sequence[str]) -> tuple[dict, list[str], list[str], list[str]]:
    """Per kind of `path`'s rows: how many the rule calls "only asks", and the document labels
    without and with it; then each row's kind and both labels."""
    rows = _rows(path)
    texts = [text for _, _, text in rows]
    without = [s.label for s in load_sentiment_model("zh").predict(texts)]
    with_rule = [s.label for s in predict_by_language(texts, ["zh"] * len(texts))]
    figures: dict[str, dict] = {}
    for kind in kinds:
        index = [k for k, (_, found, _) in enumerate(rows) if found == kind]
        figures[kind] = {
            "n": len(index),
            "only_asks": sum(only_asks(texts[k]) for k in index),
            "labels_reference": dict(Counter(without[k] for k in index)),
            "labels_tiyan": dict(Counter(with_rule[k] for k in index)),
        }
    return figures, [kind for _, kind, _ in rows], without, with_rule


def service_utterances() -> dict:
    """`by_kind` of the service utterances, and the accuracy and balanced accuracy of both
    readings against SERVICE_GOLD."""
    figures: dict[str, object]
    figures, kinds, without, with_rule = by_kind(SERVICE, tuple(SERVICE_GOLD))
    gold = [SERVICE_GOLD[kind] for kind in kinds]
    for name, labels in (("reference", without), ("tiyan", with_rule)):
        pairs = list(zip(gold, labels, strict=True))
        recalls = [
            sum(p == g for g, p in pairs if g == label) / sum(g == label for g, _ in pairs)
            for label in ("negative", "neutral", "positive")
        ]
        figures[f"accuracy_{name}"] = round(sum(g == p for g, p in pairs) / len(pairs), 4)
        figures[f"balanced_accuracy_{name}"] = round(sum(recalls) / len(recalls), 4)
    return figures


def written_messages() -> dict:
    return by_kind(MESSAGES, ("ask", "complain", "mixed", "statement"))[0]


def corpora(data: Path) -> dict:
    model = load_sentiment_model("zh")
    figures = {}
    for corpus, industry in CORPORA.items():
        rows = [r for r in read_csv(data, corpus, ("text", "label")) if r["split"] == "test"]
        texts = [r["text"] for r in rows]
        gold = [r["label"] for r in rows]
        read = model.predict(texts, industry)
        asked = predict_by_language(texts, ["zh"] * len(texts), industry)
        without = [polarity(s.label, s.score) for s in read]
        with_rule = [polarity(s.label, s.score) for s in asked]
        figures[corpus] = {
            "n": len(rows),
            "industry": industry,
            "turned_neutral": sum(a != b for a, b in zip(read, asked, strict=True)),
            "accuracy_reference": round(
                sum(g == p for g, p in zip(gold, without, strict=True)) / len(rows), 4
            ),
            "accuracy_tiyan": round(
                sum(g == p for g, p in zip(gold, with_rule, strict=True)) / len(rows), 4
            ),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    messages = written_messages()
    asks = messages["ask"]
    others = [messages[kind] for kind in ("complain", "mixed", "statement")]
    result = {
        "questions_neutral_reference": asks["labels_reference"].get("neutral", 0) / asks["n"],
        "questions_neutral_tiyan": asks["labels_tiyan"].get("neutral", 0) / asks["n"],
        "others_called_questions": sum(o["only_asks"] for o in others)
        / sum(o["n"] for o in others),
        "complaints_negative_reference": messages["complain"]["labels_reference"].get(
            "negative", 0
        ) / messages["complain"]["n"],
        "complaints_negative_tiyan": messages["complain"]["labels_tiyan"].get("negative", 0)
        / messages["complain"]["n"],
        "messages": messages,
        "service": service_utterances(),
        "corpora_test": corpora(args.data),
    }
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
