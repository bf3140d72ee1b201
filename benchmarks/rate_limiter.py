"""Rate limiter overhead per request when no wait is needed.

    python benchmarks/rate_limiter.py [--requests N] [--repeat N]

Prints two lines:

- the limiter's own cycle per request (an admission through a concurrency slot and both
  per-minute buckets, the response's OpenAI rate-limit headers and usage, the release), in µs;
- a whole sync ``generate`` over an in-process ``httpx2.MockTransport`` without a limiter and
  with one whose limits are never reached, in µs per request, and their ratio.

The limits are set so high that no request waits: this is the price every request pays for
having a limiter at all. Each figure is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import time

import httpx2

from reverie import Call, Message, RateLimiter, Usage
from reverie._rate_limiter import SlotWaiter
from reverie.providers import openaicompat

HEADERS = {
    "content-type": "application/json",
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-remaining-requests": "9999",
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-limit-tokens": "2000000",
    "x-ratelimit-remaining-tokens": "1999990",
    "x-ratelimit-reset-tokens": "0s",
}
BODY = json.dumps(
    {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10},
    }
).encode()
CALL = Call(prompt=[Message.user("hi")])


def unreachable_limits() -> RateLimiter:
    """A limiter with every limit set, none of which a benchmark reaches."""
    return RateLimiter(requests_per_minute=1e12, tokens_per_minute=1e15, max_concurrency=1000)


def limiter_cycle(requests: int) -> float:
    """Seconds per request of the limiter's own work, without any I/O."""
    limiter = unreachable_limits()
    usage = Usage(input_tokens=9, output_tokens=1, total_tokens=10)
    started = time.perf_counter()
    for _ in range(requests):
        admission = limiter.admission(url="http://bench/v1/chat/completions", body_size=120, deadline_at=None)
        admission.take_slot(SlotWaiter)
        while admission.next_wait() > 0:
            raise AssertionError("a benchmark request had to wait")
        admission.observe(200, HEADERS.items())
        admission.used(usage)
        admission.release()
    return (time.perf_counter() - started) / requests


def generate_requests(requests: int, limiter: RateLimiter | None) -> float:
    """Seconds per sync ``generate`` over an in-process transport."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers=HEADERS, content=BODY)

    client = httpx2.Client(transport=httpx2.MockTransport(answer))
    provider = openaicompat.Provider(
        base_url="http://bench/v1", api_key="k", http_client=client, rate_limiter=limiter
    )
    model = provider.language_model("m")
    model.generate(CALL)  # warm up: imports, first-use caches
    started = time.perf_counter()
    for _ in range(requests):
        model.generate(CALL)
    elapsed = time.perf_counter() - started
    client.close()
    return elapsed / requests


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--requests", type=int, default=5000)
    arguments.add_argument("--repeat", type=int, default=5)
    options = arguments.parse_args()
    cycle = min(limiter_cycle(options.requests) for _ in range(options.repeat))
    bare = min(generate_requests(options.requests, None) for _ in range(options.repeat))
    limited = min(generate_requests(options.requests, unreachable_limits()) for _ in range(options.repeat))
    print(f"limiter cycle (slot, buckets, headers, usage, release): {cycle * 1e6:.1f} µs per request")
    print(
        f"generate over a mock transport: {bare * 1e6:.1f} µs without a limiter, "
        f"{limited * 1e6:.1f} µs with one (ratio {limited / bare:.3f}, +{(limited - bare) * 1e6:.1f} µs)"
    )


if __name__ == "__main__":
    main()
