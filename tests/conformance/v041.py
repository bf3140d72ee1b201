"""Which of fantasy v0.41.2's recordings the conformance test runs, and which fail today.

``tests/_async/test_conformance_v041.py`` (agent programs) and
``tests/_async/test_conformance_v041_objects.py`` (object programs), with their generated sync
twins, read both tables from here, so each exists once. ``NOT_COLLECTED`` names the suites
(or ``suite/model dir``) that need features reverie does not have yet; they are not
collected at all.
``KNOWN_FAILURES`` marks collected entries that fail today as strict xfails; each reason
says what is missing, read from the first mismatch (the ``Cassette`` error names the
differing JSON paths) and, where a lenient replay showed more, from the later requests too.
``test_v041_tables.py`` keeps both tables in step with the manifest.
"""

from __future__ import annotations

from reverie.testing.scenarios import Scenario

_RESPONSES = 'no Responses API (openai.Provider(api="responses"))'
_AZURE = "no azure provider"
_BEDROCK = "no bedrock provider (AWS event-stream framing, SigV4 and bearer auth)"
_VERTEX = "no vertex provider"

NOT_COLLECTED: dict[str, str] = {
    "TestAnthropicComputerUse": "no anthropic.computer_use tool (a direct model-calls program)",
    "TestAnthropicWebSearch": "no provider-executed tools (anthropic.web_search)",
    "TestAzureCommon": _AZURE,
    "TestAzureThinking": _AZURE,
    "TestAzureResponsesCommon": f"{_AZURE}; {_RESPONSES}",
    "TestAzureResponsesWithSummaryThinking": f"{_AZURE}; {_RESPONSES}",
    "TestBedrockBasicAuth": _BEDROCK,
    "TestBedrockCommon": _BEDROCK,
    "TestGoogleCommon/vertex-claude-3-7-sonnet": _VERTEX,
    "TestGoogleCommon/vertex-gemini-2-5-flash": _VERTEX,
    "TestGoogleVertexObjectGeneration": _VERTEX,
    "TestOpenAIResponsesCommon": _RESPONSES,
    "TestOpenAIResponsesObjectGeneration": _RESPONSES,
    "TestOpenAIResponsesWithSummaryThinking": _RESPONSES,
    "TestOpenAIWebSearch": f"{_RESPONSES}; no openai.web_search()",
}
"""Suites (``Suite`` or ``Suite/model dir``) left out, each with the missing feature."""


def not_collected_reason(scenario: Scenario) -> str | None:
    """Why the entry is left out, or ``None`` when it is collected."""
    return NOT_COLLECTED.get(f"{scenario.suite}/{scenario.model_dir}") or NOT_COLLECTED.get(scenario.suite)


_ANTHROPIC_MAX_TOKENS = (
    "anthropic: thinking without max_output_tokens sends max_tokens 8096 (4096 + budget); v0.41.2 sends 4096"
)
_GOOGLE_IDS = "google: no tool_call_id option"
_GOOGLE_IDS_SIGNATURE = (
    "google: no tool_call_id option; thoughtSignature not sent back on the signed functionCall part"
)
_GOOGLE_IDS_THINKING_LEVEL = (
    "google: no tool_call_id option; thinking_config.thinking_level (Gemini 3) rejected"
)
_COMPAT_REASONING = "openaicompat: reasoning_content not sent back"
_COMPAT_REASONING_LAST_TEXT = (
    "openaicompat: reasoning_content not sent back; content must be the step's last text part"
    " (text split by a tool call), not all its text joined"
)
_OPENROUTER_DETAILS = "openrouter: reasoning_details not sent back"
_OPENROUTER_CLAUDE_REASONING = (
    "openrouter: reasoning_details and reasoning not sent back;"
    " Claude reasoning parts lack provider_metadata['anthropic']['signature']"
)
_OPENROUTER_CACHE = "openrouter: anthropic cache_control markers not sent"
_NO_VERCEL = "no vercel provider"

# Entries that fail today, one line per manifest path. xfail_strict is on, so an entry that
# starts passing fails the run: delete its line here in the change that fixes it (and add a
# line, with what is missing, for an entry a change breaks on purpose).
KNOWN_FAILURES: dict[str, str] = {
    "TestAnthropicThinking/claude-sonnet-4/thinking-streaming.yaml": _ANTHROPIC_MAX_TOKENS,
    "TestAnthropicThinking/claude-sonnet-4/thinking.yaml": _ANTHROPIC_MAX_TOKENS,
    "TestAnthropicThinkingWithCacheControl/claude-sonnet-4/thinking-streaming.yaml": _ANTHROPIC_MAX_TOKENS,
    "TestAnthropicThinkingWithCacheControl/claude-sonnet-4/thinking.yaml": _ANTHROPIC_MAX_TOKENS,
    "TestGoogleCommon/gemini-3-pro-preview/multi_tool.yaml": _GOOGLE_IDS_SIGNATURE,
    "TestGoogleCommon/gemini-3-pro-preview/multi_tool_streaming.yaml": _GOOGLE_IDS_SIGNATURE,
    "TestGoogleCommon/gemini-3-pro-preview/simple.yaml": _GOOGLE_IDS,
    "TestGoogleCommon/gemini-3-pro-preview/simple_streaming.yaml": _GOOGLE_IDS,
    "TestGoogleCommon/gemini-3-pro-preview/tool.yaml": _GOOGLE_IDS_SIGNATURE,
    "TestGoogleCommon/gemini-3-pro-preview/tool_streaming.yaml": _GOOGLE_IDS_SIGNATURE,
    "TestGoogleObjectGeneration/gemini-2.5-pro/complex_object.yaml": _GOOGLE_IDS,
    "TestGoogleObjectGeneration/gemini-2.5-pro/complex_object_streaming.yaml": _GOOGLE_IDS,
    "TestGoogleObjectGeneration/gemini-2.5-pro/simple_object.yaml": _GOOGLE_IDS,
    "TestGoogleObjectGeneration/gemini-2.5-pro/simple_object_streaming.yaml": _GOOGLE_IDS,
    "TestGoogleThinking/gemini-2.5-flash/thinking-streaming.yaml": _GOOGLE_IDS_SIGNATURE,
    "TestGoogleThinking/gemini-2.5-flash/thinking.yaml": _GOOGLE_IDS_SIGNATURE,
    "TestGoogleThinking/gemini-3-pro-preview/thinking-streaming.yaml": _GOOGLE_IDS_THINKING_LEVEL,
    "TestGoogleThinking/gemini-3-pro-preview/thinking.yaml": _GOOGLE_IDS_THINKING_LEVEL,
    "TestOpenAICompatibleCommon/avian-kimi/multi_tool_streaming.yaml": _COMPAT_REASONING_LAST_TEXT,
    "TestOpenAICompatibleCommon/avian-kimi/tool_streaming.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleCommon/xai-grok-code-fast/multi_tool.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleCommon/xai-grok-code-fast/multi_tool_streaming.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleCommon/xai-grok-code-fast/tool.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleCommon/xai-grok-code-fast/tool_streaming.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleCommon/zai-glm-4-7-flash/multi_tool.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleCommon/zai-glm-4-7-flash/multi_tool_streaming.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleCommon/zai-glm-4-7-flash/tool.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleCommon/zai-glm-4-7-flash/tool_streaming.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleThinking/llama-cpp-gpt-oss/thinking-streaming.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleThinking/llama-cpp-gpt-oss/thinking.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleThinking/xai-grok-3-mini/thinking-streaming.yaml": _COMPAT_REASONING,
    "TestOpenAICompatibleThinking/xai-grok-3-mini/thinking.yaml": _COMPAT_REASONING,
    "TestOpenRouterCommon/gemini/multi_tool.yaml": _OPENROUTER_DETAILS,
    "TestOpenRouterCommon/gemini/multi_tool_streaming.yaml": _OPENROUTER_DETAILS,
    "TestOpenRouterCommon/gemini/tool.yaml": _OPENROUTER_DETAILS,
    "TestOpenRouterCommon/gemini/tool_streaming.yaml": _OPENROUTER_DETAILS,
    "TestOpenRouterCommon/kimi/multi_tool.yaml": _OPENROUTER_DETAILS,
    "TestOpenRouterCommon/kimi/multi_tool_streaming.yaml": _OPENROUTER_DETAILS,
    "TestOpenRouterCommon/kimi/tool.yaml": _OPENROUTER_DETAILS,
    "TestOpenRouterCommon/kimi/tool_streaming.yaml": _OPENROUTER_DETAILS,
    "TestOpenRouterCommonWithAnthropicCache/anthropic/multi_tool.yaml": _OPENROUTER_CACHE,
    "TestOpenRouterCommonWithAnthropicCache/anthropic/multi_tool_streaming.yaml": _OPENROUTER_CACHE,
    "TestOpenRouterCommonWithAnthropicCache/anthropic/simple.yaml": _OPENROUTER_CACHE,
    "TestOpenRouterCommonWithAnthropicCache/anthropic/simple_streaming.yaml": _OPENROUTER_CACHE,
    "TestOpenRouterCommonWithAnthropicCache/anthropic/tool.yaml": _OPENROUTER_CACHE,
    "TestOpenRouterCommonWithAnthropicCache/anthropic/tool_streaming.yaml": _OPENROUTER_CACHE,
    "TestOpenRouterThinking/anthropic/thinking-streaming.yaml": _OPENROUTER_CLAUDE_REASONING,
    "TestOpenRouterThinking/anthropic/thinking.yaml": _OPENROUTER_CLAUDE_REASONING,
    "TestVercelCommon/claude-sonnet-4/multi_tool.yaml": _NO_VERCEL,
    "TestVercelCommon/claude-sonnet-4/multi_tool_streaming.yaml": _NO_VERCEL,
    "TestVercelCommon/claude-sonnet-4/simple.yaml": _NO_VERCEL,
    "TestVercelCommon/claude-sonnet-4/simple_streaming.yaml": _NO_VERCEL,
    "TestVercelCommon/claude-sonnet-4/tool.yaml": _NO_VERCEL,
    "TestVercelCommon/claude-sonnet-4/tool_streaming.yaml": _NO_VERCEL,
    "TestVercelCommon/gpt-5/multi_tool.yaml": _NO_VERCEL,
    "TestVercelCommon/gpt-5/multi_tool_streaming.yaml": _NO_VERCEL,
    "TestVercelCommon/gpt-5/simple.yaml": _NO_VERCEL,
    "TestVercelCommon/gpt-5/simple_streaming.yaml": _NO_VERCEL,
    "TestVercelCommon/gpt-5/tool.yaml": _NO_VERCEL,
    "TestVercelCommon/gpt-5/tool_streaming.yaml": _NO_VERCEL,
    "TestVercelCommonWithAnthropicCache/claude-sonnet-4/multi_tool.yaml": _NO_VERCEL,
    "TestVercelCommonWithAnthropicCache/claude-sonnet-4/multi_tool_streaming.yaml": _NO_VERCEL,
    "TestVercelCommonWithAnthropicCache/claude-sonnet-4/simple.yaml": _NO_VERCEL,
    "TestVercelCommonWithAnthropicCache/claude-sonnet-4/simple_streaming.yaml": _NO_VERCEL,
    "TestVercelCommonWithAnthropicCache/claude-sonnet-4/tool.yaml": _NO_VERCEL,
    "TestVercelCommonWithAnthropicCache/claude-sonnet-4/tool_streaming.yaml": _NO_VERCEL,
    "TestVercelThinking/claude-sonnet-4-sig/thinking-streaming.yaml": _NO_VERCEL,
    "TestVercelThinking/claude-sonnet-4-sig/thinking.yaml": _NO_VERCEL,
    "TestVercelThinking/gemini-3-pro-preview/thinking-streaming.yaml": _NO_VERCEL,
    "TestVercelThinking/gemini-3-pro-preview/thinking.yaml": _NO_VERCEL,
}
"""Manifest path -> what reverie is missing for that recording."""
