"""How tiyan's text models hold on feedback they were not trained on: the model card in one run.

    .venv/bin/python bench/text_generalisation.py [--data ../shared/data] [--cap 1000]
                                                  [--no-speed] [--tiyan ".venv/bin/tiyan"]
                                                  [--english-only]

1. Chinese sentiment, leave one domain out (waimai, hotel, each online_shopping category, each
   chinese_absa product): the shipped recipe (`train.ZH_CANDIDATE`) is trained on the train
   splits of every other domain (at most `--cap` texts per domain, a fixed sample, to keep the
   run short on a shared 2-core machine) and scored on the left-out domain's test split. (The
   choice between recipes was made the same way on the dev splits; docs/models/text.md.)
2. English sentiment, leave one domain out (airline tweets ↔ TripAdvisor hotel reviews), three
   classes and two (neutral left out), every candidate of `selection_en.json` (the choice between
   them was made on the dev splits by `tiyan text train`), no cap.
3. The shipped models on the test splits (in-domain), as `tiyan text analyze` runs them.
4. Aspect sentiment: chinese_absa test (term given) accuracy and car_aspects_ccf2018 test pair-F1,
   with the trivial baselines on the same texts.
5. Speed against SnowNLP: `shared/eval/text_eval.py` on the three Chinese corpora (unless
   `--no-speed`).

`--english-only` runs parts 2 and 3 only. Ends by printing one JSON line with all figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tiyan.text._aspect_model import load_aspect_model
from tiyan.text._domains import chinese_sentiment, english_sentiment
from tiyan.text._english import SELECTION_EN, english_candidates, lodo, ternary_figures
from tiyan.text._opinion import load_opinion_model
from tiyan.text._opinion_training import absa_figures, car_figures
from tiyan.text._selection import leave_one_domain_out, mean_of
from tiyan.text.sentiment import load_sentiment_model
from tiyan.text.train import (
    EN_REPORTED,
    ZH_CANDIDATE,
    ZH_REPORTED,
    binary_accuracy,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
EVAL_SCRIPT = ROOT.parent / "shared" / "eval" / "text_eval.py"
SPEED_CORPORA = ("waimai_10k", "chnsenticorp_htl", "online_shopping_10_cats")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def chinese_lodo(data: Path, cap: int | None) -> dict:
    rows = chinese_sentiment(data)
    folds = leave_one_domain_out(
        ZH_CANDIDATE, rows, ("train",), ("test",), seed=0, cap=cap, log=log
    )
    return {"candidate": ZH_CANDIDATE.name, "cap": cap, "mean": mean_of(folds), "folds": folds}


def english_lodo(data: Path) -> dict:
    rows = english_sentiment(data)
    rule = json.loads(SELECTION_EN.read_text(encoding="utf-8"))
    found = {}
    for candidate in english_candidates(rule):
        started = time.process_time()
        found[candidate.name] = lodo(candidate, rows, "test", seed=0)
        log(f"{candidate.name}: {json.dumps(found[candidate.name])}")
        log(f"{candidate.name}: {time.process_time() - started:.0f} s CPU")
    return found


def in_domain(data: Path) -> dict:
    zh = load_sentiment_model("zh")
    rows = chinese_sentiment(data)
    figures: dict = {}
    for corpus, industry in ZH_REPORTED.items():
        test = [r for r in rows if r.corpus == corpus and r.split == "test"]
        figures[corpus] = {
            "industry": industry,
            "n": len(test),
            "accuracy": binary_accuracy(zh, test, industry),
        }
    en = load_sentiment_model("en")
    english = english_sentiment(data)
    for corpus in EN_REPORTED:
        of_corpus = [r for r in english if r.corpus == corpus]
        figures[corpus] = ternary_figures(
            lambda texts: [s.label for s in en.predict(texts)], of_corpus, ["test"])["test"]
    return figures


def aspects(data: Path) -> dict:
    zh = load_sentiment_model("zh")
    car = load_aspect_model("car_product")
    assert car is not None

    def documents(texts: list[str]) -> list[str]:
        return [found.label for found in zh.predict(texts)]

    model = load_opinion_model()
    return {
        "chinese_absa_test": absa_figures(model, data, "test", documents, zh.probabilities),
        "car_aspects_ccf2018_test": car_figures(model, car, data, "test", documents),
    }


def shipped_figures(data: Path) -> dict:
    return {"in_domain_test": in_domain(data), "aspects": aspects(data)}


def speed(tiyan: str | None) -> dict:
    command = tiyan or str(Path(sys.executable).parent / "tiyan")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "eval.json"
        arguments = [sys.executable, str(EVAL_SCRIPT), "--only", *SPEED_CORPORA]
        arguments += ["--json", str(out), "--tiyan", command]
        subprocess.run(arguments, check=True, capture_output=True, cwd=ROOT)
        figures: dict = json.loads(out.read_text(encoding="utf-8"))
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cap", type=int, default=300, help="train texts per domain (LODO)")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--tiyan", default=None, help="the tiyan command text_eval.py runs")
    parser.add_argument("--english-only", action="store_true", help="English sentiment only")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.english_only:
        english = {"in_domain_test": in_domain(args.data), "lodo_en": english_lodo(args.data)}
        english["seconds"] = round(time.perf_counter() - started)
        print(json.dumps(english, ensure_ascii=False))
        return
    # the three parts are independent: run them side by side (speed is measured after them)
    with ProcessPoolExecutor(max_workers=3) as pool:
        zh = pool.submit(chinese_lodo, args.data, args.cap)
        en = pool.submit(english_lodo, args.data)
        shipped = pool.submit(shipped_figures, args.data)
        result = {**shipped.result(), "lodo_en": en.result(), "lodo_zh": zh.result()}
    if not args.no_speed:
        result["speed"] = speed(args.tiyan)
    result["seconds"] = round(time.perf_counter() - started)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
