"""The ``vercel`` provider: where its requests go and how its options reach the wire."""

from __future__ import annotations

from typing import Any

import pytest

from reverie import Call, Message, UserError
from reverie.providers import vercel


def _body(options: Any, model: str = "anthropic/claude-sonnet-4") -> dict[str, Any]:
    call = Call(prompt=[Message.user("hi")], provider_options={"vercel": options})
    return vercel.Codec(model).build_request(call, stream=False).body


def test_provider_defaults() -> None:
    assert vercel.Provider.default_base_url == "https://ai-gateway.vercel.sh/v1"
    assert vercel.Provider.api_key_env == "AI_GATEWAY_API_KEY"
    assert vercel.Codec("openai/gpt-5").build_request(
        Call(prompt=[Message.user("hi")]), stream=False
    ).path == ("/chat/completions")


def test_no_options_send_nothing_extra() -> None:
    body = vercel.Codec("anthropic/claude-sonnet-4").build_request(
        Call(prompt=[Message.user("hi")]), stream=False
    )
    assert body.body == {
        "model": "anthropic/claude-sonnet-4",
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_reasoning_and_plain_options_are_body_fields() -> None:
    body = _body(
        {
            "reasoning": {"enabled": True, "effort": "high", "max_tokens": 2000, "exclude": False},
            "user": "u-1",
            "logit_bias": {"50256": -100},
            "logprobs": True,
            "top_logprobs": 2,
            "parallel_tool_calls": False,
        }
    )
    assert body["reasoning"] == {"enabled": True, "effort": "high", "max_tokens": 2000, "exclude": False}
    assert body["user"] == "u-1"
    assert body["logit_bias"] == {"50256": -100}
    assert (body["logprobs"], body["top_logprobs"], body["parallel_tool_calls"]) == (True, 2, False)
    assert "providerOptions" not in body


def test_gateway_and_byok_go_in_provider_options() -> None:
    body = _body(
        vercel.Options(
            gateway=vercel.Gateway(
                order=["bedrock", "anthropic"], models=["openai/gpt-5"], zero_data_retention=True
            ),
            byok={"anthropic": [{"apiKey": "k"}]},
        )
    )
    assert body["providerOptions"] == {
        "gateway": {
            "order": ["bedrock", "anthropic"],
            "models": ["openai/gpt-5"],
            "zero_data_retention": True,
            "byok": {"anthropic": [{"apiKey": "k"}]},
        }
    }
    assert "gateway" not in body and "byok" not in body


def test_typed_options_equal_the_dict_form() -> None:
    typed = vercel.Options(
        reasoning=vercel.Reasoning(enabled=True), gateway=vercel.Gateway(order=["anthropic"])
    )
    assert _body(typed) == _body({"reasoning": {"enabled": True}, "gateway": {"order": ["anthropic"]}})


def test_extra_body_is_merged() -> None:
    assert _body({"extra_body": {"service_tier": "flex"}})["service_tier"] == "flex"


def test_unknown_option_is_a_user_error_naming_it() -> None:
    with pytest.raises(UserError, match="reasonin"):
        _body({"reasonin": {"enabled": True}})
