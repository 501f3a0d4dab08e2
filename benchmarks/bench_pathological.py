"""Cost of the hostile inputs the tests only guard against hanging (tests/hang_guard.py).

    python benchmarks/bench_pathological.py [--repeat 3]

For each input family the time at size n and at 2n is printed, with their ratio: about
2 means linear, 4 quadratic. Best of `--repeat` runs each (these machines are noisy);
no assertion.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from redmine_sla_bridge.config.loader import ConfigError, load_config
from redmine_sla_bridge.domain.intake import find_rude_words, parse_labelled_lines
from redmine_sla_bridge.entrypoints.web.request_body import MAX_JSON_DEPTH, json_depth


def _alias_bomb(levels: int) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


def _load(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bridge.yaml"
        path.write_text(text, encoding="utf-8")
        with contextlib.suppress(ConfigError):  # the bomb is refused: that is the cost
            load_config(path, env={})


FAMILIES: dict[str, tuple[Callable[[int], object], Callable[[object], object], int]] = {
    "labelled-line parser, ruler of n stars": (
        lambda n: "*" * n, lambda text: parse_labelled_lines(text), 999),
    "labelled-line parser, n lines '- * - *'": (
        lambda n: ("- *" * 300 + "\n") * n, lambda text: parse_labelled_lines(text), 50),
    "rudeness, one word of n letters": (
        lambda n: "пизд" * (n // 4), lambda text: find_rude_words(text), 80_000),
    "rudeness, n/5 repeated words": (
        lambda n: "fuck " * (n // 5), lambda text: find_rude_words(text), 100_000),
    "JSON depth, n opening brackets": (
        lambda n: "[" * n, lambda text: json_depth(text, stop_above=MAX_JSON_DEPTH), 1_000_000),
    "JSON depth, n/2 empty arrays": (
        lambda n: "[]" * (n // 2), lambda text: json_depth(text, stop_above=MAX_JSON_DEPTH),
        1_000_000),
    "config loader, alias bomb of n levels (9^n values if expanded)": (
        lambda n: _alias_bomb(n), lambda text: _load(text), 5),
}


def best_of(repeat: int, run: Callable[[object], object], value: object) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run(value)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'input':64} {'n':>10} {'t(n) ms':>9} {'t(2n) ms':>9} {'ratio':>6}")
    for name, (make, run, n) in FAMILIES.items():
        small, large = make(n), make(2 * n)
        t1 = best_of(args.repeat, run, small)
        t2 = best_of(args.repeat, run, large)
        print(f"{name:64} {n:>10} {t1 * 1e3:>9.2f} {t2 * 1e3:>9.2f} {t2 / t1:>6.2f}")


if __name__ == "__main__":
    main()
