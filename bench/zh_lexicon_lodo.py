"""Would a polarity lexicon learned from the corpora carry the Chinese document model further?

Evidence for issue 18's next step; nothing here is shipped. The Chinese document model reads
"保养做得很糟糕" as +0.08: its unigrams 很 and 得 outweigh 糟糕. A lexicon of whole words whose
polarity holds across domains would not carry 很 at all. For each of the 18 domains
(`_domains.chinese_sentiment`), left out in turn:

1. the shipped recipe (`train.ZH_CANDIDATE`) is fitted on the other domains' train splits (at
   most `--cap` texts per domain, a fixed seeded sample as in `_selection`; default: all);
2. a lexicon is learned from the same rows: a word of two or more Han characters (tiyan's
   segmenter) whose log-odds of a positive review, in each domain where it occurs at least three
   times, has the same sign in at least 80% of at least three such domains, with a mean of at
   least 1 in size; its valence is that mean, clipped to ±3;
3. each left-out dev text's lexicon polarity is tanh(sum of its words' valences / 3), a negator
   (不 没 无 未 别 非) turning the next valence round; the model's probabilities are pulled
   towards it as the English model's are (`_polarity_lexicon.mixed`) for each `--shares` value.

Prints each fold, then one JSON line: {"cap", "shares", "lodo_dev": {share: mean accuracy},
"folds": {domain: {share: accuracy}}, "seconds"}.

    PYTHONPATH=src .venv/bin/python bench/zh_lexicon_lodo.py [--cap 300] [--shares 0 0.2 0.35]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tiyan.text._domains import Labelled, chinese_sentiment
from tiyan.text._features import hash_features, normalise
from tiyan.text._linear import sigmoid
from tiyan.text._opinion import _NEGATORS
from tiyan.text._polarity_lexicon import mixed
from tiyan.text._selection import fit_candidate
from tiyan.text.segment import segment
from tiyan.text.train import ZH_CANDIDATE

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")
_CLAUSE_END = re.compile(r"^[，。！？,.!?；;~\s]+$")
MIN_COUNT, MIN_DOMAINS, AGREEMENT, MIN_SIZE, CLIP = 3, 3, 0.8, 1.0, 3.0


def learn_lexicon(rows: Sequence[Labelled], words: Sequence[Sequence[str]]) -> dict[str, float]:
    """The words whose polarity holds across domains, with their mean log-odds (see above)."""
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, row_words in zip(rows, words, strict=True):
        totals[row.domain][row.label] += 1
        for word in set(row_words):
            if _WORD.match(word):
                counts[word][row.domain][row.label] += 1
    lexicon = {}
    for word, by_domain in counts.items():
        odds = []
        for domain, (negative, positive) in by_domain.items():
            if negative + positive < MIN_COUNT:
                continue
            all_negative, all_positive = totals[domain]
            odds.append(
                np.log((positive + 0.5) / (all_positive + 1))
                - np.log((negative + 0.5) / (all_negative + 1))
            )
        if len(odds) < MIN_DOMAINS:
            continue
        values = np.array(odds)
        sign = np.sign(values.mean())
        if np.mean(np.sign(values) == sign) >= AGREEMENT and abs(values.mean()) >= MIN_SIZE:
            lexicon[word] = float(np.clip(values.mean(), -CLIP, CLIP))
    return lexicon


def lexicon_polarity(words: Sequence[str], lexicon: dict[str, float]) -> float:
    total, negated = 0.0, False
    for word in words:
        if _CLAUSE_END.match(word):
            negated = False
        elif word in _NEGATORS:
            negated = True
        elif word in lexicon:
            total += -lexicon[word] if negated else lexicon[word]
            negated = False
    return float(np.tanh(total / 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cap", type=int, default=None, help="train texts per domain")
    parser.add_argument("--shares", type=float, nargs="+", default=[0.0, 0.2, 0.3, 0.35, 0.4, 0.5])
    args = parser.parse_args()
    started = time.perf_counter()
    rows = chinese_sentiment(args.data)
    words = [segment(row.text) for row in rows]
    domains = sorted({row.domain for row in rows})
    rng = np.random.default_rng(0)
    pools = {}
    for domain in domains:
        pool = [i for i, r in enumerate(rows) if r.domain == domain and r.split == "train"]
        if args.cap is not None and len(pool) > args.cap:
            pool = sorted(int(i) for i in rng.choice(pool, args.cap, replace=False))
        pools[domain] = pool
    folds: dict[str, dict[str, float]] = {}
    for left_out in domains:
        train = [i for d in domains if d != left_out for i in pools[d]]
        held = [i for i, r in enumerate(rows) if r.domain == left_out and r.split == "dev"]
        model = fit_candidate(ZH_CANDIDATE, [rows[i] for i in train], seed=0)
        lexicon = learn_lexicon([rows[i] for i in train], [words[i] for i in train])
        features = hash_features([normalise(rows[i].text) for i in held], model.spec)
        positive = sigmoid(model.decision(features)[:, 0])
        probabilities = np.column_stack([1.0 - positive, positive])
        polarity = np.array([lexicon_polarity(words[i], lexicon) for i in held])
        gold = np.array([rows[i].label for i in held])
        folds[left_out] = {
            f"{share:g}": round(
                float(np.mean(mixed(probabilities, polarity, share).argmax(axis=1) == gold)), 4
            )
            for share in args.shares
        }
        print(left_out, len(lexicon), json.dumps(folds[left_out]), file=sys.stderr, flush=True)
    means = {
        f"{share:g}": round(float(np.mean([f[f"{share:g}"] for f in folds.values()])), 4)
        for share in args.shares
    }
    print(json.dumps({
        "cap": args.cap,
        "shares": args.shares,
        "lodo_dev": means,
        "folds": folds,
        "seconds": round(time.perf_counter() - started),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
