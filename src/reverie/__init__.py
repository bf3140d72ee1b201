"""reverie: build AI agents on many LLM providers through one typed, wire-exact API.

    from reverie import Agent, tool
    from reverie.providers import openrouter

    model = openrouter.Provider().language_model("moonshotai/kimi-k2-0905")
    result = Agent(model, tools=[...]).generate("What's the weather in Florence?")

Providers live in ``reverie.providers.<name>`` and load only when imported; the test
toolkit lives in ``reverie.testing``.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from reverie._content import (
    CallWarning,
    ContentPart,
    FilePart,
    FinishReason,
    Message,
    ProviderMetadata,
    ReasoningPart,
    SourcePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from reverie._errors import (
    DeadlineExceededError,
    InvalidResponseError,
    MissingAPIKeyError,
    NoObjectGeneratedError,
    ProviderError,
    RestoredError,
    RetryError,
    ReverieError,
    TooManyOpenFilesError,
    UserError,
)
from reverie._lazy import lazy_exports as _lazy_exports
from reverie._model import (
    Call,
    LanguageModel,
    ProviderTool,
    Response,
    ResponseFormat,
    ToolChoice,
    ToolDefinition,
)
from reverie._parts import (
    AgentStreamPart,
    Discarded,
    FinishPart,
    ModelStreamPart,
    OutputPart,
    RateLimitWaitPart,
    ReasoningDeltaPart,
    ReasoningEndPart,
    ReasoningStartPart,
    RetryPart,
    StepFinishPart,
    StepStartPart,
    StreamStartPart,
    TextDeltaPart,
    TextEndPart,
    TextStartPart,
    ToolInputDeltaPart,
    ToolInputEndPart,
    ToolInputStartPart,
)
from reverie._results import AgentResult, StepResult
from reverie._retry import RetryPolicy
from reverie._version import __version__

if _TYPE_CHECKING:
    from reverie._agent import DEFAULT_MAX_STEPS, Agent, CallSettings
    from reverie._async.batch import run_batch_async
    from reverie._async.objects import AsyncObjectStream
    from reverie._async.runner import AsyncAgentStream
    from reverie._batch.items import BatchItem
    from reverie._batch.results import BatchResult
    from reverie._cost import Cost
    from reverie._errors import (
        BudgetExceededError,
        InterruptedToolError,
        JournalConflictError,
        JournalError,
    )
    from reverie._fallback import FallbackModel
    from reverie._instrument import instrument, uninstrument
    from reverie._journal.protocol import Journal, RunRecord
    from reverie._journal.sqlite import SQLiteJournal
    from reverie._model_strings import model
    from reverie._objects.plan import ObjectMode
    from reverie._objects.results import ObjectPart, ObjectResult, ObjectStreamPart
    from reverie._rate_limiter import RateLimiter
    from reverie._run.config import (
        StopCondition,
        finish_reason_is,
        has_tool_call,
        max_tokens_used,
        step_count_is,
    )
    from reverie._run.spending import Budget
    from reverie._run.step_hook import StepContext, StepOverrides
    from reverie._serialisation import from_json, to_json
    from reverie._sync.batch import run_batch
    from reverie._sync.objects import ObjectStream
    from reverie._sync.runner import AgentStream
    from reverie._tools.function import FunctionTool, tool
    from reverie._tools.protocol import Tool, ToolInputError, Toolset

__all__ = [
    "DEFAULT_MAX_STEPS",
    "Agent",
    "AgentResult",
    "AgentStream",
    "AgentStreamPart",
    "AsyncAgentStream",
    "AsyncObjectStream",
    "BatchItem",
    "BatchResult",
    "Budget",
    "BudgetExceededError",
    "Call",
    "CallSettings",
    "CallWarning",
    "ContentPart",
    "Cost",
    "DeadlineExceededError",
    "Discarded",
    "FallbackModel",
    "FilePart",
    "FinishPart",
    "FinishReason",
    "FunctionTool",
    "InterruptedToolError",
    "InvalidResponseError",
    "Journal",
    "JournalConflictError",
    "JournalError",
    "LanguageModel",
    "Message",
    "MissingAPIKeyError",
    "ModelStreamPart",
    "NoObjectGeneratedError",
    "ObjectMode",
    "ObjectPart",
    "ObjectResult",
    "ObjectStream",
    "ObjectStreamPart",
    "OutputPart",
    "ProviderError",
    "ProviderMetadata",
    "ProviderTool",
    "RateLimitWaitPart",
    "RateLimiter",
    "ReasoningDeltaPart",
    "ReasoningEndPart",
    "ReasoningPart",
    "ReasoningStartPart",
    "Response",
    "ResponseFormat",
    "RestoredError",
    "RetryError",
    "RetryPart",
    "RetryPolicy",
    "ReverieError",
    "RunRecord",
    "SQLiteJournal",
    "SourcePart",
    "StepContext",
    "StepFinishPart",
    "StepOverrides",
    "StepResult",
    "StepStartPart",
    "StopCondition",
    "StreamStartPart",
    "TextDeltaPart",
    "TextEndPart",
    "TextPart",
    "TextStartPart",
    "TooManyOpenFilesError",
    "Tool",
    "ToolCallPart",
    "ToolChoice",
    "ToolDefinition",
    "ToolInputDeltaPart",
    "ToolInputEndPart",
    "ToolInputError",
    "ToolInputStartPart",
    "ToolResultPart",
    "Toolset",
    "Usage",
    "UserError",
    "__version__",
    "finish_reason_is",
    "from_json",
    "has_tool_call",
    "instrument",
    "max_tokens_used",
    "model",
    "run_batch",
    "run_batch_async",
    "step_count_is",
    "to_json",
    "tool",
    "uninstrument",
]

# The agent and its run machinery load on first use: a program that only imports reverie
# (or a provider) does not pay for them.
__getattr__ = _lazy_exports(
    __name__,
    {
        "reverie._agent": ["DEFAULT_MAX_STEPS", "Agent", "CallSettings"],
        "reverie._model_strings": ["model"],
        "reverie._async.runner": ["AsyncAgentStream"],
        "reverie._instrument": ["instrument", "uninstrument"],
        "reverie._cost": ["Cost"],
        "reverie._errors": [
            "BudgetExceededError",
            "InterruptedToolError",
            "JournalConflictError",
            "JournalError",
        ],
        "reverie._journal.protocol": ["Journal", "RunRecord"],
        "reverie._journal.sqlite": ["SQLiteJournal"],
        "reverie._run.spending": ["Budget"],
        "reverie._fallback": ["FallbackModel"],
        "reverie._sync.runner": ["AgentStream"],
        "reverie._run.config": [
            "StopCondition",
            "finish_reason_is",
            "has_tool_call",
            "max_tokens_used",
            "step_count_is",
        ],
        "reverie._run.step_hook": ["StepContext", "StepOverrides"],
        "reverie._tools.function": ["FunctionTool", "tool"],
        "reverie._tools.protocol": ["Tool", "ToolInputError", "Toolset"],
        "reverie._async.objects": ["AsyncObjectStream"],
        "reverie._sync.objects": ["ObjectStream"],
        "reverie._objects.plan": ["ObjectMode"],
        "reverie._objects.results": ["ObjectPart", "ObjectResult", "ObjectStreamPart"],
        "reverie._rate_limiter": ["RateLimiter"],
        "reverie._serialisation": ["from_json", "to_json"],
        "reverie._sync.batch": ["run_batch"],
        "reverie._async.batch": ["run_batch_async"],
        "reverie._batch.items": ["BatchItem"],
        "reverie._batch.results": ["BatchResult"],
    },
)
