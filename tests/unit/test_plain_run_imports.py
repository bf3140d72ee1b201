"""A plain sync call loads no tracing, durable runs, approvals, stream decoding, tokens or wire types.

Those modules are imported by the first run that needs them (``reverie.instrument()`` or
``Agent(instrument=True)``, a journal, a resume, a tool call, a stream, a token or key callable;
the chat wire's TypedDicts only by the stream decoder), so a program that only makes calls does
not pay for them. Checked in a fresh interpreter, as imports
are process-wide.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

DEFERRED = (
    "reverie._instrument",
    "reverie._run.journal_replay",
    "reverie._journal.protocol",
    "reverie.providers._openai_chat.stream",
    "reverie._run.approval",
    "reverie._http.framing",
    "reverie._http.sse",
    "reverie._http.auth",
    "reverie._run.resume",
    "reverie.providers._openai_chat.wire",
)

PROGRAM = f"""
import json, sys
import httpx2
from reverie import Agent
from reverie.providers import openaicompat
from tests.first_request import answer

with httpx2.Client(transport=httpx2.MockTransport(answer)) as client:
    provider = openaicompat.Provider(base_url="http://compat/v1", http_client=client)
    agent = Agent(provider.language_model("m"))
    text = agent.generate("hi").text
    loaded = [name for name in {DEFERRED!r} if name in sys.modules]
    text_streamed = "".join(part.delta for part in agent.stream("hi") if part.type == "text_delta")
    print(json.dumps({{"text": text, "loaded": loaded, "streamed": text_streamed,
                      "stream_decoder": "reverie.providers._openai_chat.stream" in sys.modules,
                      "framing": "reverie._http.framing" in sys.modules}}))
"""


def test_a_plain_call_defers_tracing_replay_approvals_and_stream_decoding() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["text"] == "hi"
    assert report["loaded"] == []
    assert report["streamed"] == "hi"
    assert report["stream_decoder"] is True  # the first stream loads it
    assert report["framing"] is True
