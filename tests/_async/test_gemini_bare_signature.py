"""A signed empty Gemini text part that follows no text keeps its signature, and it goes back.

Gemini 3 may end a turn with ``{"text": "", "thoughtSignature": ...}``. After streamed text
the signature signs that text block (recorded); here nothing open precedes it (a function
call did), and the part must still reach the step, in ``generate`` and ``stream`` alike, as
an empty text part carrying the signature, which the next request sends back as it came.
An unsigned empty part (recorded after calls) is still nothing.

This is the async source; ``tests/_sync/test_gemini_bare_signature.py`` is generated from it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from reverie import Agent, TextPart, ToolCallPart, tool
from reverie.providers import google

CALL_SIGNATURE = "c2lnbmVkLWNhbGw="
BARE_SIGNATURE = "YmFyZS1zaWduYXR1cmU="
CALL = {"functionCall": {"name": "now", "args": {}, "id": "c1"}, "thoughtSignature": CALL_SIGNATURE}
BARE = {"text": "", "thoughtSignature": BARE_SIGNATURE}
USAGE = {"promptTokenCount": 3, "candidatesTokenCount": 4, "totalTokenCount": 7}


def candidate(*parts: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}}
    if finish:
        entry["finishReason"] = finish
    return {"candidates": [entry], "usageMetadata": USAGE}


# Step 1 calls the tool, then signs an empty text part (an unsigned one comes first, as recorded).
FIRST_CHUNKS = [candidate(CALL), candidate({"text": ""}), candidate(BARE, finish="STOP")]
FIRST_WHOLE = candidate(CALL, BARE, finish="STOP")
SECOND = candidate({"text": "It is noon."}, finish="STOP")


@tool
def now() -> str:
    """The time of day."""
    return "noon"


class Server:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content))
        first = len(self.bodies) == 1
        if request.url.path.endswith(":streamGenerateContent"):
            chunks = FIRST_CHUNKS if first else [SECOND]
            body = "".join(f"data: {json.dumps(chunk)}\r\n\r\n" for chunk in chunks)
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())
        return httpx2.Response(200, json=FIRST_WHOLE if first else SECOND)


@pytest.mark.anyio
@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
async def test_a_bare_signature_is_kept_and_sent_back(streaming: bool) -> None:
    server = Server()
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        provider = google.Provider(api_key="test-key", async_http_client=client)
        agent = Agent(provider.language_model("gemini-3-pro-preview"), tools=[now])
        if streaming:
            stream = agent.stream_async("What time is it?")
            async for _ in stream:
                pass
            result = await stream.result()
        else:
            result = await agent.generate_async("What time is it?")
    assert result.text == "It is noon."
    first = result.steps[0]
    texts = [part for part in first.content if isinstance(part, TextPart)]
    assert [(part.text, part.provider_metadata) for part in texts] == [
        ("", {"google": {"thought_signature": BARE_SIGNATURE}})
    ]
    assert [part.tool_call_id for part in first.content if isinstance(part, ToolCallPart)] == ["c1"]
    # The model turn goes back as it came: the signed call, then the signed empty text.
    assert server.bodies[1]["contents"][1] == {
        "role": "model",
        "parts": [
            {"functionCall": {"id": "c1", "name": "now", "args": {}}, "thoughtSignature": CALL_SIGNATURE},
            {"text": "", "thoughtSignature": BARE_SIGNATURE},
        ],
    }
