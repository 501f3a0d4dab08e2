"""Cost of the rudeness check (AR-7, ID-7) on a request text of about 1 KB.

    python benchmarks/bench_rudeness.py [--requests 2000]

Texts: sentences of tests/unit/intake/data/rudeness_labelled.tsv (support requests,
polite, angry and rude) shuffled into texts of 1024 characters (about 1.9 KB of UTF-8,
Cyrillic being two bytes a letter). Printed, no assertion:

- the one-off load of the pymorphy3 analyzer and generation of the lexicon's word forms
  (the first check in a process pays them);
- the time per request with the word cache cold (every word analyzed anew: a worst case,
  as if each request used only words never seen before);
- the time per request with the cache warm (the steady state: requests share most words);
- the same texts through the regex passes alone (no lemmatizer), for scale.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from redmine_sla_bridge.domain.intake import language
from redmine_sla_bridge.domain.intake.language import RudeLexicon, find_rude_words

DATA = Path(__file__).resolve().parents[1] / "tests" / "unit" / "intake" / "data" / "rudeness_labelled.tsv"
SIZE = 1024


def texts(count: int, seed: int = 16) -> list[str]:
    sentences = [line.split("\t")[0] for line in DATA.read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.startswith("#")]
    rng = random.Random(seed)
    result = []
    for _ in range(count):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < SIZE:
            parts.append(rng.choice(sentences))
        result.append(" ".join(parts)[:SIZE])
    return result


def per_request(batch: list[str], lexicon: RudeLexicon, *, cold: bool) -> list[float]:
    times = []
    for text in batch:
        if cold:
            language.readings.cache_clear()
        started = time.perf_counter()
        find_rude_words(text, lexicon)
        times.append(time.perf_counter() - started)
    return times


def show(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95)]
    print(f"{label:<46} median {statistics.median(times) * 1e3:7.3f} ms   "
          f"p95 {p95 * 1e3:7.3f} ms   mean {statistics.fmean(times) * 1e3:7.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    batch = texts(args.requests)
    lexicon = RudeLexicon()

    started = time.perf_counter()
    language.readings("проверка")  # loads the analyzer
    print(f"pymorphy3 analyzer load (once per process)     {time.perf_counter() - started:.3f} s")
    started = time.perf_counter()
    find_rude_words("проверка", lexicon)  # generates the forms of the lexicon's lemmas
    print(f"forms of the lexicon (once per lexicon)        {time.perf_counter() - started:.3f} s")
    words = sum(len(language._TOKEN.findall(t)) for t in batch) / len(batch)
    print(f"requests: {len(batch)} of {SIZE} characters (~{words:.0f} words each)")

    show("cold word cache (every word analyzed anew)", per_request(batch[:200], lexicon, cold=True))
    analyzed = language.readings.cache_info().currsize
    print(f"  (the analyzer is asked about {analyzed} distinct words of the last request only)")
    per_request(batch, lexicon, cold=False)  # warm the cache
    show("warm word cache (steady state)", per_request(batch, lexicon, cold=False))
    info = language.readings.cache_info()
    print(f"word cache: {info.currsize} distinct words (bound {info.maxsize})")
    regex_only = RudeLexicon.build(use_defaults=False, patterns=language.DEFAULT_PATTERNS)
    show("regex pass only (English patterns, no lemmas)", per_request(batch, regex_only, cold=False))


if __name__ == "__main__":
    main()
