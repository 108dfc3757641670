"""Speed of tiyan's full text pipeline against SnowNLP, each timed as a whole process.

    .venv/bin/python bench/text_speed.py [--corpus waimai_10k] [--industry restaurant]
                                         [--data ../shared/data] [--tiyan ".venv/bin/tiyan"]

Writes the `test` texts of a corpus to a CSV, runs `python -m tiyan.entry text analyze` (what the
`tiyan` console script runs; or the `--tiyan` command's `text analyze`) on it (the full pipeline:
redaction, language, sentiment, aspects, keywords) and SnowNLP on the same texts, in the same run.
Also measures the start-up cost (the same command on one text), how long loading every shipped
model takes in a fresh process and the pipeline process' peak memory. Wall seconds move with the
load of a shared machine; the CPU seconds (user + system) of the tiyan processes move less, and
`--repeat N` reports the smallest of N runs of each. `analyze` shares a big enough file among
forked processes, one per idle CPU (`--jobs`); the same runs with `--jobs 1` give the one-process
figures (`*_one_process`) beside them. Ends by printing one JSON line.

SnowNLP (`pip install snownlp==0.12.3`, the `bench` extra) is imported from the environment, else
from the evaluation script's cache (~/.cache/tiyan-eval/site); without it the peer figures are null.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
EVAL_SITE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tiyan-eval" / "site"
LOAD_CODE = (
    "import time; t=time.perf_counter()\n"
    "from tiyan.text.sentiment import load_sentiment_model\n"
    "from tiyan.text._aspect_model import load_aspect_model\n"
    "load_sentiment_model('zh'); load_sentiment_model('en'); load_aspect_model('car_product')\n"
    "print(time.perf_counter()-t)\n"
)


def test_texts(data: Path, corpus: str) -> list[str]:
    with open(data / corpus / f"{corpus}.csv", encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle) if row["split"] == "test"]


def run_tiyan(
    texts: list[str], industry: str, workdir: Path, command: list[str], jobs: str | None = None
) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, forked children included) and peak resident
    memory (MB, of the biggest process) of one `analyze` command."""
    source, target = workdir / "in.csv", workdir / "out.jsonl"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows([i, text] for i, text in enumerate(texts))
    arguments = [*command, "analyze", str(source), "--output", str(target), "--industry", industry]
    if jobs is not None:
        arguments += ["--jobs", jobs]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(arguments, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, after.ru_maxrss / 1024


def analyze_command(tiyan: str | None) -> list[str]:
    """The words before `analyze`: the console script's module by default, else
    `<tiyan command> text`."""
    if tiyan is None:
        return [sys.executable, "-m", "tiyan.entry", "text"]
    return [*tiyan.split(), "text"]


def run_snownlp(texts: list[str], workdir: Path) -> float | None:
    """Wall seconds of SnowNLP scoring every text in one process; None without SnowNLP."""
    env = dict(os.environ)
    if importlib.util.find_spec("snownlp") is None:
        if not (EVAL_SITE / "snownlp").is_dir():
            return None
        env["PYTHONPATH"] = str(EVAL_SITE)
    source = workdir / "texts.json"
    source.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    code = (
        "import json,sys\nfrom snownlp import SnowNLP\n"
        "texts=json.load(open(sys.argv[1],encoding='utf-8'))\n"
        "print(sum(SnowNLP(t).sentiments for t in texts))\n"
    )
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code, str(source)], check=True, capture_output=True, env=env
    )
    return time.perf_counter() - started


def processes_for(rows: int) -> int:
    """How many processes `analyze` shares `rows` rows among here (the first rows it analyses
    alone, to load the models)."""
    sys.path.insert(0, str(ROOT / "src"))
    from tiyan.text._forked import processes_for as shares
    from tiyan.text.analyze_command import WARM_UP_ROWS

    return shares(max(rows - WARM_UP_ROWS, 0), None) if rows > WARM_UP_ROWS else 1


def model_load_seconds() -> float:
    result = subprocess.run(
        [sys.executable, "-c", LOAD_CODE], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return float(result.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", default="waimai_10k")
    parser.add_argument("--industry", default="restaurant")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tiyan", help='command of the tiyan CLI, e.g. ".venv/bin/tiyan"')
    parser.add_argument("--repeat", type=int, default=1, help="runs of tiyan (smallest kept)")
    args = parser.parse_args()
    texts = test_texts(args.data, args.corpus)
    command = analyze_command(args.tiyan)
    with tempfile.TemporaryDirectory() as tmp:
        one = [run_tiyan(texts[:1], args.industry, Path(tmp), command) for _ in range(args.repeat)]
        runs, single = [], []
        for _ in range(args.repeat):  # in turn, so both see the same load
            runs.append(run_tiyan(texts, args.industry, Path(tmp), command))
            single.append(run_tiyan(texts, args.industry, Path(tmp), command, jobs="1"))
        peer_wall = run_snownlp(texts, Path(tmp))
    start_up, start_up_cpu = min(r[0] for r in one), min(r[1] for r in one)
    tiyan_wall, tiyan_cpu = min(r[0] for r in runs), min(r[1] for r in runs)
    peak_mb = max(r[2] for r in runs)
    tiyan_rate = len(texts) / tiyan_wall
    single_wall, single_cpu = min(r[0] for r in single), min(r[1] for r in single)
    single_rate = len(texts) / single_wall
    peer_rate = len(texts) / peer_wall if peer_wall else None
    print(
        json.dumps(
            {
                "corpus": args.corpus,
                "texts": len(texts),
                "tiyan_texts_per_s": round(tiyan_rate, 1),
                "snownlp_texts_per_s": round(peer_rate, 1) if peer_rate else None,
                "ratio": round(tiyan_rate / peer_rate, 2) if peer_rate else None,
                "tiyan_wall_s": round(tiyan_wall, 3),
                "tiyan_cpu_s": round(tiyan_cpu, 3),
                "processes": processes_for(len(texts)),
                "tiyan_texts_per_s_one_process": round(single_rate, 1),
                "ratio_one_process": round(single_rate / peer_rate, 2) if peer_rate else None,
                "tiyan_wall_s_one_process": round(single_wall, 3),
                "tiyan_cpu_s_one_process": round(single_cpu, 3),
                "snownlp_wall_s": round(peer_wall, 3) if peer_wall else None,
                "start_up_s": round(start_up, 3),
                "start_up_cpu_s": round(start_up_cpu, 3),
                "model_load_s": round(model_load_seconds(), 3),
                "peak_memory_mb": round(peak_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
