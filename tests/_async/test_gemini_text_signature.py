"""A Gemini ``thoughtSignature`` on a text part reaches the step in ``generate`` and in ``stream`` alike.

This is the async source; ``tests/_sync/test_gemini_text_signature.py`` is generated from it.
"""

from __future__ import annotations

import json

import httpx2
import pytest

from reverie import Agent, TextPart
from reverie.providers import google

SIGNATURE = "c2lnbmVkLXRleHQ="
CHUNKS = [
    {"candidates": [{"content": {"role": "model", "parts": [{"text": "Ciao, "}]}}], "responseId": "r-1"},
    {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "Firenze!", "thoughtSignature": SIGNATURE}]},
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 4, "totalTokenCount": 7},
        "modelVersion": "gemini-3-pro-preview",
        "responseId": "r-1",
    },
]
SIGNED_TEXT = {"text": "Ciao, Firenze!", "thoughtSignature": SIGNATURE}
WHOLE = {
    "candidates": [
        {
            "content": {"role": "model", "parts": [SIGNED_TEXT]},
            "finishReason": "STOP",
        }
    ],
    "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 4, "totalTokenCount": 7},
    "modelVersion": "gemini-3-pro-preview",
    "responseId": "r-1",
}


def answer(request: httpx2.Request) -> httpx2.Response:
    if request.url.path.endswith(":streamGenerateContent"):
        body = "".join(f"data: {json.dumps(chunk)}\r\n\r\n" for chunk in CHUNKS)
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())
    return httpx2.Response(200, json=WHOLE)


@pytest.mark.anyio
@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
async def test_text_signature_is_kept(streaming: bool) -> None:
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(answer)) as client:
        provider = google.Provider(api_key="test-key", async_http_client=client)
        agent = Agent(provider.language_model("gemini-3-pro-preview"))
        if streaming:
            stream = agent.stream_async("Say hi to Florence")
            async for _ in stream:
                pass
            result = await stream.result()
        else:
            result = await agent.generate_async("Say hi to Florence")
    (step,) = result.steps
    texts = [part for part in step.content if isinstance(part, TextPart)]
    assert [part.text for part in texts] == ["Ciao, Firenze!"]
    assert texts[0].provider_metadata == {"google": {"thought_signature": SIGNATURE}}
    assert step.response_id == "r-1" and step.response_model_id == "gemini-3-pro-preview"
    # The signature goes back with the assistant turn of the next request.
    assert step.messages[0].content[0].provider_metadata == texts[0].provider_metadata
