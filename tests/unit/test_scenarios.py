"""The scenario kit: manifest entries, provider arguments, the caching hook, turns and checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest

from reverie import (
    Agent,
    AgentResult,
    FilePart,
    Message,
    ReasoningPart,
    StepContext,
    StepResult,
    TextPart,
    ToolCallPart,
    Usage,
)
from reverie.testing import MockModel
from reverie.testing.scenarios import (
    Scenario,
    anthropic_cache_hook,
    check_scenario,
    counting_tool_call_ids,
    provider_arguments,
    run_scenario,
)

CACHE = {"anthropic": {"cache_control": {"type": "ephemeral"}}}


def _entry(**fields: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "path": "Suite/model/simple.yaml",
        "kind": "openrouter",
        "base_url": "https://openrouter.ai/api/v1",
        "model": "some/model",
        "scenario": "simple",
        "streaming": False,
        "system_prompt": "You are a helpful assistant",
        "prompt": "Say hi in Portuguese",
        "tools": [],
        "assertions": [],
        "interactions": 1,
        "origin": {"repo": "charmbracelet/fantasy"},
    }
    entry.update(fields)
    return entry


def _step(*content: Any, reasoning_tokens: int = 0) -> StepResult:
    parts = list(content)
    return StepResult(
        step_number=0,
        content=parts,
        finish_reason="stop",
        usage=Usage(reasoning_tokens=reasoning_tokens),
        messages=[Message(role="assistant", content=parts)],
    )


# ---------------------------------------------------------------- manifest entries


def test_entry_without_match_is_strict_and_bookkeeping_is_ignored() -> None:
    scenario = Scenario.from_entry(_entry())
    assert scenario.match == "strict"
    assert scenario.program == "agent"
    assert scenario.root is None


def test_entry_keeps_lenient_match_and_rejects_unknown_modes() -> None:
    assert Scenario.from_entry(_entry(match="lenient")).match == "lenient"
    assert Scenario.from_entry(_entry(match=None)).match == "strict"
    with pytest.raises(ValueError, match="unknown match 'loose'"):
        Scenario.from_entry(_entry(match="loose"))


def test_recording_is_relative_to_the_root() -> None:
    scenario = Scenario.from_entry(_entry(), root=Path("/corpus"))
    assert scenario.recording == Path("/corpus/Suite/model/simple.yaml")
    with pytest.raises(ValueError, match="no root folder"):
        _ = Scenario.from_entry(_entry()).recording


# ---------------------------------------------------------------- provider arguments


def test_older_entries_get_their_base_url_and_the_dummy_key() -> None:
    arguments = provider_arguments(Scenario.from_entry(_entry()))
    assert arguments == {"base_url": "https://openrouter.ai/api/v1", "api_key": "test-key"}


def test_v041_entries_pass_provider_args_and_auth_as_given() -> None:
    scenario = Scenario.from_entry(
        _entry(kind="openaicompat", provider_args={"base_url": "http://localhost:8080/v1"}, auth={})
    )
    assert provider_arguments(scenario) == {"base_url": "http://localhost:8080/v1"}
    scenario = Scenario.from_entry(_entry(provider_args={}, auth={"api_key": "test-key"}))
    assert provider_arguments(scenario) == {"api_key": "test-key"}


def test_access_token_fn_becomes_a_callable_access_token() -> None:
    scenario = Scenario.from_entry(_entry(provider_args={}, auth={"access_token_fn": "test-token"}))
    token = provider_arguments(scenario)["access_token"]
    assert callable(token) and token() == "test-token"


def test_unknown_auth_forms_and_id_modes_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown auth form 'password'"):
        provider_arguments(Scenario.from_entry(_entry(auth={"password": "x"})))
    with pytest.raises(ValueError, match="unknown tool_call_ids 'uuid'"):
        provider_arguments(Scenario.from_entry(_entry(tool_call_ids="uuid")))


def test_counter_ids_count_from_one_and_restart_per_provider() -> None:
    scenario = Scenario.from_entry(_entry(kind="google", provider_args={}, tool_call_ids="counter"))
    first = provider_arguments(scenario)["tool_call_id"]
    assert [first(), first(), first()] == ["1", "2", "3"]
    assert provider_arguments(scenario)["tool_call_id"]() == "1"
    ids = counting_tool_call_ids()
    assert (ids(), ids()) == ("1", "2")


# ---------------------------------------------------------------- the caching hook


def _context(messages: list[Message]) -> StepContext:
    return StepContext(step_number=0, steps=[], messages=messages, model=MockModel("hi"))


def test_cache_hook_marks_the_system_message_and_the_last_two() -> None:
    messages = [Message.system("be brief"), Message.user("hi")]
    overrides = anthropic_cache_hook(_context(messages))
    assert overrides.messages is not None
    assert [message.provider_options for message in overrides.messages] == [CACHE, CACHE]
    assert messages[0].provider_options == {}, "the run's own messages are not changed"


def test_cache_hook_clears_older_markers_on_later_steps() -> None:
    call = ToolCallPart(tool_call_id="1", tool_name="weather", input="{}")
    messages = [
        Message(role="system", content=[TextPart(text="a")], provider_options=CACHE),
        Message(role="system", content=[TextPart(text="b")]),
        Message(role="user", content=[TextPart(text="hi")], provider_options=CACHE),
        Message(role="assistant", content=[call]),
        Message(role="tool", content=[TextPart(text="40 C")]),
    ]
    overrides = anthropic_cache_hook(_context(messages))
    assert overrides.messages is not None
    assert [message.provider_options for message in overrides.messages] == [{}, CACHE, {}, CACHE, CACHE]
    marked = [message.provider_options for message in overrides.messages if message.provider_options]
    assert marked[0] is not marked[1], "each message gets its own marker"


# ---------------------------------------------------------------- turns


def test_files_go_with_the_prompt_and_the_followup_continues_the_first_turn(tmp_path: Path) -> None:
    (tmp_path / "wish.png").write_bytes(b"\x89PNG")
    files = [{"path": "wish.png", "media_type": "image/png", "filename": "wish.png"}]
    scenario = Scenario.from_entry(
        _entry(files=files, followup={"prompt": "And Osaka?"}, max_output_tokens=4000), root=tmp_path
    )
    model = MockModel(["Tokyo", "Osaka"])
    agent = Agent(model, system_prompt=scenario.system_prompt)
    first = run_scenario(scenario, agent)
    second = run_scenario(scenario, agent, first_turn=first)
    assert [first.text, second.text] == ["Tokyo", "Osaka"]
    image = FilePart(data=b"\x89PNG", media_type="image/png", filename="wish.png")
    sent_first = Message.user("Say hi in Portuguese", image)
    assert model.calls[0].prompt[1:] == [sent_first]
    assert model.calls[0].max_output_tokens == 4000
    assert model.calls[1].prompt[1:] == [sent_first, Message.assistant("Tokyo"), Message.user("And Osaka?")]


def test_a_followup_needs_a_followup_prompt() -> None:
    scenario = Scenario.from_entry(_entry())
    first = AgentResult(steps=[_step(TextPart(text="Olá"))])
    with pytest.raises(ValueError, match="no follow-up turn"):
        run_scenario(scenario, Agent(MockModel("x")), first_turn=first)


# ---------------------------------------------------------------- checks


def _scenario(*assertions: dict[str, Any]) -> Scenario:
    return Scenario.from_entry(_entry(assertions=list(assertions)))


def test_turn_selects_the_result_an_assertion_is_about() -> None:
    turns = [
        AgentResult(steps=[_step(TextPart(text="Tokyo"))]),
        AgentResult(steps=[_step(TextPart(text=" "))]),
    ]
    scenario = _scenario(
        {"check": "final_text_contains_all", "values": ["Tokyo"]},
        {"check": "final_text_nonempty", "turn": 1},
        {"check": "final_text_nonempty", "turn": 2},
    )
    assert check_scenario(scenario, turns) == [
        "final_text_nonempty (turn 1): the final text is empty",
        "final_text_nonempty (turn 2): no turn 2 (the run had 2)",
    ]
    assert check_scenario(_scenario({"check": "final_text_nonempty"}), turns[0]) == []


def test_reasoning_metadata_needs_every_part_marked_and_with_text() -> None:
    check = {"check": "reasoning_metadata", "key": "anthropic", "field": "signature", "require_text": True}
    signed = ReasoningPart(text="hmm", provider_metadata={"anthropic": {"signature": "sig"}})
    unsigned = ReasoningPart(text="hmm")
    empty = ReasoningPart(text="", provider_metadata={"anthropic": {"signature": "sig"}})
    assert check_scenario(_scenario(check), AgentResult(steps=[_step(signed)])) == []
    assert check_scenario(_scenario(check), AgentResult(steps=[_step(signed, unsigned)])) == [
        "reasoning_metadata: 1 of 2 reasoning parts lack provider_metadata['anthropic']['signature']"
    ]
    assert check_scenario(_scenario(check), AgentResult(steps=[_step(signed, empty)])) == [
        "reasoning_metadata: 1 of 2 reasoning parts have no text"
    ]
    assert check_scenario(_scenario(check), AgentResult(steps=[_step(TextPart(text="hi"))])) == [
        "reasoning_metadata: no reasoning part in the step messages"
    ]


def test_final_step_reasoning_tokens_reads_the_step_that_wrote_the_final_text() -> None:
    check = {"check": "final_step_reasoning_tokens", "min": 1}
    result = AgentResult(steps=[_step(TextPart(text="40 C"), reasoning_tokens=0), _step(TextPart(text=""))])
    assert check_scenario(_scenario(check), result) == [
        "final_step_reasoning_tokens: 0 reasoning tokens in the final step, expected >= 1"
    ]
    result = AgentResult(steps=[_step(TextPart(text="40 C"), reasoning_tokens=12)])
    assert check_scenario(_scenario(check), result) == []


def test_provider_tool_calls_count_only_provider_executed_calls() -> None:
    check = {"check": "provider_tool_calls", "min": 1, "first_name": "web_search"}
    local = ToolCallPart(tool_call_id="1", tool_name="weather", input="{}")
    remote = ToolCallPart(tool_call_id="2", tool_name="web_search", input="{}", provider_executed=True)
    assert check_scenario(_scenario(check), AgentResult(steps=[_step(local)])) == [
        "provider_tool_calls: 0 provider-executed tool calls, expected >= 1"
    ]
    assert check_scenario(_scenario(check), AgentResult(steps=[_step(local, remote)])) == []


def test_unknown_checks_fail_loudly() -> None:
    result = AgentResult(steps=[_step(TextPart(text="hi"))])
    assert check_scenario(_scenario({"check": "object_shape"}), result) == [
        "object_shape: unknown check 'object_shape'"
    ]


def test_request_header_checks_every_request_sent() -> None:
    import httpx2

    from reverie.testing.scenarios import check_requests

    def sent(*values: str) -> list[httpx2.Request]:
        return [
            httpx2.Request("POST", "https://x.test", headers={"authorization": value}) for value in values
        ]

    bearer = [{"check": "request_header", "name": "authorization", "equals": "Bearer test-key"}]
    sigv4 = [
        {
            "check": "request_header",
            "name": "authorization",
            "prefix": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/",
            "contains": "/us-east-1/bedrock/aws4_request",
        }
    ]
    signed = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/bedrock/aws4_request, Sig..."
    assert check_requests(bearer, sent("Bearer test-key", "Bearer test-key")) == []
    assert check_requests(bearer, sent("Bearer test-key", "Bearer other")) != []
    assert check_requests(bearer, []) != []
    assert check_requests(sigv4, sent(signed)) == []
    assert check_requests(sigv4, sent(signed.replace("us-east-1", "eu-west-1"))) != []
    assert check_requests(sigv4, [httpx2.Request("POST", "https://x.test")]) != []


def _sent(**headers: str) -> httpx2.Request:
    return httpx2.Request("POST", "https://example.test/v1", headers=headers)


@pytest.mark.parametrize(
    ("assertion", "sent", "problem"),
    [
        ({"name": "api-key", "equals": "test-key"}, [_sent(**{"api-key": "test-key"})] * 2, None),
        (
            {"name": "api-key", "equals": "test-key"},
            [_sent(**{"api-key": "test-key"}), _sent()],
            "request 1 has no",
        ),
        (
            {"name": "api-key", "equals": "test-key"},
            [_sent(**{"api-key": "other"})],
            "not the expected value",
        ),
        ({"name": "authorization", "prefix": "Bearer "}, [_sent(authorization="Bearer t")], None),
        ({"name": "authorization", "prefix": "AWS4"}, [_sent(authorization="Bearer t")], "does not start"),
        ({"name": "authorization", "contains": "us-east-1"}, [_sent(authorization="x us-east-1 y")], None),
        ({"name": "authorization", "contains": "us-east-1"}, [_sent(authorization="x")], "does not contain"),
        ({"name": "api-key", "equals": "k"}, [], "no sent requests"),
    ],
)
def test_request_header_checks_every_sent_request(
    assertion: dict[str, Any], sent: list[httpx2.Request], problem: str | None
) -> None:
    failures = check_scenario(
        _scenario({"check": "request_header", **assertion}), AgentResult(steps=[]), requests=sent
    )
    if problem is None:
        assert failures == []
    else:
        assert len(failures) == 1 and problem in failures[0]
    # The value itself never appears in a failure (it may be a credential).
    assert all("test-key" not in failure for failure in failures)
