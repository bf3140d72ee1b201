"""Memory of one consumed stream of N chunks: reverie's agent stream vs a raw httpx2 loop.

    python benchmarks/stream_memory.py [--sizes 1000,10000,100000,500000] [--no-tracemalloc]

For each size and client a fresh child process (this script, in the current Python, which must
have reverie installed: the repo's dev venv) streams one answer of N text chunks from the
loopback mock server (``mock_server.py``, asked through its ``x-bench-chunks`` header) after a
small warm-up stream, so imports, caches and the connection are not counted. It reports:

* RSS: the growth of the peak RSS (``VmHWM``, reset before the stream) over the RSS before the
  stream, and the RSS still held once the stream, its result and the text are released;
* tracemalloc (unless ``--no-tracemalloc``, in a second stream of the same child, as tracing
  slows it down): the peak of traced memory above the start, per chunk as well, and what stays.

Each reverie row also shows its peaks minus raw's at the same size. At small sizes fixed
buffers (the HTTP read buffer, the warm state) dominate the per-chunk figure; from 100,000
chunks on it is what each chunk costs.

``raw`` is the floor: ``httpx2.Client.stream``, ``iter_lines``, ``json.loads`` of each ``data:``
line, the text grown in one string. ``reverie`` is what users write: ``Agent.stream`` on
``openaicompat.Provider``, every part iterated, then ``result()``. Both check the whole text.
Linux only (``/proc/self``). Running 500,000 chunks takes about a minute and the mock server
holds the answer's ~100 MB; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from common import API_KEY, PROMPT, expected_text, model_name
from run import MockServer

SIZES = (1_000, 10_000, 100_000, 500_000)
CLIENTS = ("raw", "reverie")
WARM_UP_CHUNKS = 10
MIB = 1024 * 1024
RESULT_PREFIX = "RESULT "


# --- in the child process ----------------------------------------------------------------


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> None:
    # Writing 5 to clear_refs resets VmHWM (the peak RSS) to the current RSS (Linux 4.0+).
    Path("/proc/self/clear_refs").write_text("5")


def raw_streamer(base_url: str) -> Callable[[int], str]:
    import httpx2

    client = httpx2.Client(timeout=600.0)
    url = f"{base_url}/chat/completions"
    headers = {"Authorization": f"Bearer {API_KEY}"}

    def stream(chunks: int) -> str:
        body = {
            "model": model_name(chunks),
            "messages": [{"role": "user", "content": PROMPT}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        text = ""
        request_headers = {**headers, "x-bench-chunks": str(chunks)}
        with client.stream("POST", url, json=body, headers=request_headers) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                for choice in json.loads(data)["choices"]:
                    text += choice["delta"].get("content") or ""
        return text

    return stream


def reverie_streamer(base_url: str) -> Callable[[int], str]:
    from reverie import Agent, RetryPolicy
    from reverie.providers import openaicompat

    provider = openaicompat.Provider(base_url=base_url, api_key=API_KEY)

    def stream(chunks: int) -> str:
        model = provider.language_model(model_name(chunks))
        agent = Agent(model, retry=RetryPolicy(max_retries=0))
        parts = agent.stream(PROMPT, headers={"x-bench-chunks": str(chunks)})
        for _ in parts:
            pass
        return parts.result().text

    return stream


def measure(client: str, chunks: int, base_url: str, traced: bool) -> dict[str, float]:
    """Stream ``chunks`` chunks with ``client``; the memory figures, in bytes."""
    stream = (raw_streamer if client == "raw" else reverie_streamer)(base_url)
    expected = expected_text(chunks)
    if stream(WARM_UP_CHUNKS) != expected_text(WARM_UP_CHUNKS):
        raise AssertionError("wrong warm-up answer")
    gc.collect()
    before = _status_kib("VmRSS")
    _reset_peak_rss()
    text = stream(chunks)
    peak = _status_kib("VmHWM")
    if text != expected:
        raise AssertionError(f"{client}: wrong answer for {chunks} chunks")
    del text
    gc.collect()
    figures = {"rss_peak": (peak - before) * 1024.0, "rss_kept": (_status_kib("VmRSS") - before) * 1024.0}
    if traced:
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        text = stream(chunks)
        traced_peak = tracemalloc.get_traced_memory()[1]
        if text != expected:
            raise AssertionError(f"{client}: wrong answer for {chunks} chunks (traced)")
        del text
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        figures |= {"traced_peak": float(traced_peak - start), "traced_kept": float(kept - start)}
    return figures


# --- in the parent process ---------------------------------------------------------------


def run_child(client: str, chunks: int, base_url: str, traced: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", client, str(chunks), base_url]
    if not traced:
        command.append("--no-tracemalloc")
    completed = subprocess.run(
        command, capture_output=True, text=True, cwd=Path(__file__).parent, check=False
    )
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            figures: dict[str, float] = json.loads(line[len(RESULT_PREFIX) :])
            return figures
    raise RuntimeError(f"{client} at {chunks} chunks failed:\n{completed.stderr[-2000:]}")


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value / MIB:+.2f}"


def _per_chunk(value: float | None, chunks: int) -> str:
    return "-" if value is None else f"{value / chunks:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES), help="chunk counts")
    parser.add_argument("--no-tracemalloc", action="store_true", help="RSS only (faster)")
    parser.add_argument("--child", nargs=3, metavar=("CLIENT", "CHUNKS", "BASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    traced = not args.no_tracemalloc
    if args.child:
        client, chunks, base_url = args.child
        print(RESULT_PREFIX + json.dumps(measure(client, int(chunks), base_url, traced)), flush=True)
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    server = MockServer(idle_timeout=120.0, max_duration=3600.0)
    try:
        print(
            "| chunks | client | RSS peak (MiB) | vs raw (MiB) | RSS kept (MiB) "
            "| traced peak (MiB) | vs raw (MiB) | B/chunk | traced kept (MiB) |"
        )
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for chunks in sizes:
            raw: dict[str, float] = {}
            for client in CLIENTS:
                figures = run_child(client, chunks, server.url, traced)
                raw = raw or figures  # the first client is raw, the baseline
                traced_peak = figures.get("traced_peak")
                row = [
                    f"{chunks:,}",
                    client,
                    _mib(figures["rss_peak"]),
                    _mib(figures["rss_peak"] - raw["rss_peak"]),
                    _mib(figures["rss_kept"]),
                    _mib(traced_peak),
                    _mib(None if traced_peak is None else traced_peak - raw["traced_peak"]),
                    _per_chunk(traced_peak, chunks),
                    _mib(figures.get("traced_kept")),
                ]
                print("| " + " | ".join(row) + " |", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
