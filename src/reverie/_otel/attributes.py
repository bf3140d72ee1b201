"""The ``gen_ai.*`` attributes of the OpenTelemetry GenAI semantic conventions, from reverie's types.

Names are the conventions' own (``gen_ai.operation.name``, ``gen_ai.provider.name``,
``gen_ai.request.*``, ``gen_ai.response.*``, ``gen_ai.usage.*``, ``gen_ai.tool.*``,
``error.type``); values come from a ``Call``, a ``StepResult`` or an error. Pure: no spans
are made here, and message content is ``reverie._otel.content``'s job.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.util.types import AttributeValue

from reverie._content import FinishReason, Usage
from reverie._errors import ProviderError
from reverie._model import Call, LanguageModel
from reverie._results import StepResult

Attributes = dict[str, AttributeValue]

OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
SYSTEM = "gen_ai.system"
"""The older name of ``gen_ai.provider.name``, still read by many backends; set to the same value."""
AGENT_NAME = "gen_ai.agent.name"
REQUEST_MODEL = "gen_ai.request.model"
OUTPUT_TYPE = "gen_ai.output.type"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
CACHE_CREATION_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
REASONING_TOKENS = "gen_ai.usage.reasoning.output_tokens"
TOKEN_TYPE = "gen_ai.token.type"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_TYPE = "gen_ai.tool.type"
TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_CALL_RESULT = "gen_ai.tool.call.result"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
ERROR_TYPE = "error.type"

CHAT = "chat"
INVOKE_AGENT = "invoke_agent"
EXECUTE_TOOL = "execute_tool"

INVALID_TOOL_CALL = "invalid_tool_call"
"""``error.type`` of a call that was not run: an unknown tool, or input that failed validation."""
OTHER_ERROR = "_OTHER"
"""``error.type`` when nothing more specific is known (the conventions' fallback value)."""

# reverie's provider names that the conventions spell otherwise; the rest are used as they are
# (``openai``, ``anthropic``, and the names of gateways the conventions do not list).
_PROVIDER_NAMES = {
    "google": "gcp.gemini",
    "vertex": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "azure": "azure.ai.openai",
}

# The conventions' finish reasons are singular where reverie's unified set (the Vercel AI
# SDK's) says ``tool_calls``.
_FINISH_REASONS: dict[FinishReason, str] = {"tool_calls": "tool_call"}

# Request settings and the attributes they go to; ``None`` settings are left out.
_REQUEST_SETTINGS = (
    ("max_output_tokens", "gen_ai.request.max_tokens"),
    ("temperature", "gen_ai.request.temperature"),
    ("top_p", "gen_ai.request.top_p"),
    ("top_k", "gen_ai.request.top_k"),
    ("presence_penalty", "gen_ai.request.presence_penalty"),
    ("frequency_penalty", "gen_ai.request.frequency_penalty"),
    ("seed", "gen_ai.request.seed"),
)
STOP_SEQUENCES = "gen_ai.request.stop_sequences"


def provider_name(provider: str) -> str:
    """The ``gen_ai.provider.name`` of a reverie provider name (``google`` -> ``gcp.gemini``)."""
    return _PROVIDER_NAMES.get(provider, provider)


def finish_reason(reason: FinishReason) -> str:
    """A unified finish reason as the conventions spell it (``tool_calls`` -> ``tool_call``)."""
    return _FINISH_REASONS.get(reason, reason)


def model_attributes(operation: str, model: LanguageModel) -> Attributes:
    """Operation, provider (under both names) and requested model."""
    provider = provider_name(model.provider)
    return {
        OPERATION_NAME: operation,
        PROVIDER_NAME: provider,
        SYSTEM: provider,
        REQUEST_MODEL: model.model_id,
    }


def request_attributes(call: Call) -> Attributes:
    """The settings a request was sent with (``gen_ai.request.temperature`` and the like)."""
    attributes: Attributes = {}
    for setting, name in _REQUEST_SETTINGS:
        value: int | float | None = getattr(call, setting)
        if value is not None:
            attributes[name] = value
    if call.stop_sequences is not None:
        attributes[STOP_SEQUENCES] = list(call.stop_sequences)
    if call.response_format is not None:
        attributes[OUTPUT_TYPE] = "json"
    return attributes


def response_attributes(answer: StepResult) -> Attributes:
    """Response model and id, finish reason and token usage of one model answer."""
    attributes: Attributes = {}
    if answer.response_model_id:
        attributes[RESPONSE_MODEL] = answer.response_model_id
    if answer.response_id:
        attributes[RESPONSE_ID] = answer.response_id
    attributes[FINISH_REASONS] = [finish_reason(answer.finish_reason)]
    attributes.update(usage_attributes(answer.usage))
    return attributes


def usage_attributes(usage: Usage) -> Attributes:
    """Input and output tokens; cache and reasoning tokens when there were any."""
    attributes: Attributes = {INPUT_TOKENS: usage.input_tokens, OUTPUT_TOKENS: usage.output_tokens}
    if usage.cache_read_tokens:
        attributes[CACHE_READ_TOKENS] = usage.cache_read_tokens
    if usage.cache_creation_tokens:
        attributes[CACHE_CREATION_TOKENS] = usage.cache_creation_tokens
    if usage.reasoning_tokens:
        attributes[REASONING_TOKENS] = usage.reasoning_tokens
    return attributes


def total_usage(steps: Sequence[StepResult]) -> Usage:
    """The usage of every step of a run, added up."""
    return sum((step.usage for step in steps), Usage())


def error_type(error: BaseException) -> str:
    """A low-cardinality ``error.type``: the HTTP status of a provider error, else the class name."""
    if isinstance(error, ProviderError) and error.status_code is not None:
        return str(error.status_code)
    return type(error).__qualname__
