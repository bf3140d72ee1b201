"""Partial-object parsing cost: a ~50 KB object streamed in 5-byte deltas.

    python benchmarks/partial_json.py [--size BYTES] [--delta BYTES] [--repeat N]

Prints the time ``PartialObjectParser`` takes to fold the whole stream (emitting partial
objects as ``stream_object`` does), the time of one ``json.loads`` of the whole text, their
ratio, and how many times the parser parsed. Re-parsing on every delta would cost about
(size / delta) / 2 whole parses; the parser's geometric spacing keeps the total a small
constant times one parse, whatever the number of deltas.
"""

from __future__ import annotations

import argparse
import json
import time

from reverie._objects.partial import PartialObjectParser


def make_text(size: int) -> str:
    """A JSON object of about ``size`` bytes: a list of small records, like a generated table."""
    items: list[dict[str, object]] = []
    text = ""
    while len(text) < size:
        index = len(items)
        items.append({"id": index, "name": f"item number {index}", "tags": ["alpha", "beta"], "ok": True})
        if index % 50 == 0:
            text = json.dumps({"items": items})
    return json.dumps({"items": items})


def fold(text: str, delta: int) -> tuple[float, int]:
    """Seconds to feed ``text`` in ``delta``-byte pieces and finish, and the number of parses."""
    parser = PartialObjectParser()
    started = time.perf_counter()
    for index in range(0, len(text), delta):
        parser.feed(text[index : index + delta])
    parser.finish()
    elapsed = time.perf_counter() - started
    assert parser.value == json.loads(text)
    return elapsed, parser.parses


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--size", type=int, default=50_000)
    arguments.add_argument("--delta", type=int, default=5)
    arguments.add_argument("--repeat", type=int, default=5)
    options = arguments.parse_args()
    text = make_text(options.size)
    partial_runs = [fold(text, options.delta) for _ in range(options.repeat)]
    partial = min(seconds for seconds, _ in partial_runs)
    loads = min(_time_loads(text) for _ in range(options.repeat))
    deltas = -(-len(text) // options.delta)
    print(f"text: {len(text)} bytes in {deltas} deltas of {options.delta} bytes")
    print(f"partial parser: {partial * 1e3:.2f} ms ({partial_runs[0][1]} parses)")
    print(f"json.loads once: {loads * 1e3:.2f} ms")
    print(f"ratio: {partial / loads:.1f}x one json.loads")


def _time_loads(text: str) -> float:
    started = time.perf_counter()
    json.loads(text)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
