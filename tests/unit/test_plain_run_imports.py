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
from typing import Any

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


def run_fresh(program: str) -> dict[str, Any]:
    """What ``program`` prints as JSON, run in a fresh interpreter (nothing imported before)."""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_a_plain_call_defers_tracing_replay_approvals_and_stream_decoding() -> None:
    report = run_fresh(PROGRAM)
    assert report["text"] == "hi"
    assert report["loaded"] == []
    assert report["streamed"] == "hi"
    assert report["stream_decoder"] is True  # the first stream loads it
    assert report["framing"] is True


# What a plain run (no tools, callbacks, hooks, journal) does not need,
# after a first sync and async generate and stream; each loads with the feature that uses it.
PLAIN_RUN_DEFERRED = (
    "reverie._tools.function",
    "reverie._tools.schema",
    "reverie._tools.provider",
    "reverie._run.callbacks",
    "reverie._journal.claims",
    "reverie._run.step_hook",
)
# A whole chat answer without reasoning details does not need their reader (a stream's decoder does).
GENERATE_DEFERRED = ("reverie.providers._openai_chat.reasoning",)

FEATURES_PROGRAM = f"""
import asyncio, json, sys
import httpx2
from reverie import Agent
from reverie.providers import openaicompat
from tests.first_request import answer
from tests.wire_answers import chat_completion


def loaded(names):
    return [name for name in names if name in sys.modules]


TOOL_CALL = {{
    "choices": [{{
        "index": 0,
        "finish_reason": "tool_calls",
        "message": {{"role": "assistant", "content": None, "tool_calls": [{{
            "id": "c1", "type": "function", "function": {{"name": "double", "arguments": '{{"number": 21}}'}}
        }}]}},
    }}],
}}


def features(request):
    body = json.loads(request.content)
    if body["model"] == "down":
        return httpx2.Response(503, json={{"error": {{"message": "overloaded"}}}})
    if body["model"] == "tools" and body["messages"][-1]["role"] != "tool":
        return httpx2.Response(200, json=TOOL_CALL)
    if body["model"] == "tools":
        return httpx2.Response(200, json=chat_completion(body["messages"][-1]["content"]))
    return answer(request)


report = {{}}
with httpx2.Client(transport=httpx2.MockTransport(features)) as client:
    provider = openaicompat.Provider(base_url="http://compat/v1", http_client=client)
    agent = Agent(provider.language_model("m"))
    generated = agent.generate("hi").text
    report["after_generate"] = loaded({PLAIN_RUN_DEFERRED + GENERATE_DEFERRED!r})
    streamed = agent.stream("hi").result().text

    async def run_async():
        async with httpx2.AsyncClient(transport=httpx2.MockTransport(features)) as inner:
            async_provider = openaicompat.Provider(base_url="http://compat/v1", async_http_client=inner)
            async_agent = Agent(async_provider.language_model("m"))
            generated = (await async_agent.generate_async("hi")).text
            report["after_generate_async"] = loaded({PLAIN_RUN_DEFERRED!r})
            streamed = (await async_agent.stream_async("hi").result()).text
            return generated, streamed

    report["texts"] = [generated, streamed, *asyncio.run(run_async())]
    report["after_streams"] = loaded({PLAIN_RUN_DEFERRED!r})

    finished = []
    agent = Agent(provider.language_model("m"), on_finish=finished.append)
    agent.generate("hi")
    report["callback"] = [len(finished), loaded(["reverie._run.callbacks"])]

    contexts = []
    hooked = Agent(provider.language_model("m"), prepare_step=contexts.append).generate("hi").text
    report["prepare_step"] = [hooked, [type(context).__name__ for context in contexts],
                              loaded(["reverie._run.step_hook"])]

    from reverie import tool  # after the checks: it loads the tool classes

    @tool
    def double(number: int) -> str:
        \"\"\"Double a number.\"\"\"
        return str(number * 2)

    with_tool = Agent(provider.language_model("tools"), tools=[double]).generate("hi")
    report["tool"] = [
        with_tool.text,
        loaded(["reverie._tools.function", "reverie._tools.schema", "reverie._tools.provider"]),
    ]
print(json.dumps(report))
"""


def test_a_plain_run_defers_tools_callbacks_hook_types_and_journal_claims_until_used() -> None:
    report = run_fresh(FEATURES_PROGRAM)
    assert report["texts"] == ["hi", "hi", "hi", "hi"]
    assert report["after_generate"] == []
    assert report["after_generate_async"] == []
    assert report["after_streams"] == []
    assert report["callback"] == [1, ["reverie._run.callbacks"]]
    assert report["prepare_step"] == ["hi", ["StepContext"], ["reverie._run.step_hook"]]
    tool_modules = ["reverie._tools.function", "reverie._tools.schema", "reverie._tools.provider"]
    assert report["tool"] == ["42", tool_modules]
