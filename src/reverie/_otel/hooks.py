"""``TracingHooks``: the spans and metrics of one run, through the run's instrumentation seam.

One ``invoke_agent`` span (INTERNAL) per run; under it a ``chat {model}`` span (CLIENT) for
each model request, every retry and fallback attempt its own span with the attempt's own
model, and an ``execute_tool {name}`` span (INTERNAL) for each tool call. Each request
records ``gen_ai.client.operation.duration`` and, when it answered,
``gen_ai.client.token.usage`` (``gen_ai.token.type`` ``input`` and ``output``).

Spans are parented explicitly on the run's span rather than made current, because the run
and model spans stay open while a stream yields parts to the caller, whose context must not
change. Only a tool span is made current, inside the tool's own context (its thread or
task), so a span the tool starts is its child. Content (``gen_ai.input.messages``,
``gen_ai.output.messages``, tool arguments and results) is recorded only when asked for.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from reverie._content import ToolCallPart, ToolResultPart
from reverie._errors import BudgetExceededError, ReverieError
from reverie._otel import attributes as names
from reverie._otel.attributes import Attributes, error_type, model_attributes, provider_name
from reverie._otel.content import input_messages, output_messages
from reverie._otel.telemetry import Telemetry
from reverie._run.actions import Action, CallModel
from reverie._run.hooks import ObservedRun, RunHooks

_NOTHING: AbstractContextManager[object] = nullcontext()


class TracingHooks(RunHooks):
    """Records one run (a new instance per run: it holds the run's span)."""

    __slots__ = (
        "_agent_name",
        "_capture",
        "_chat",
        "_chat_error",
        "_response_model",
        "_run_context",
        "_telemetry",
    )

    def __init__(self, telemetry: Telemetry, *, agent_name: str | None, capture_content: bool) -> None:
        self._telemetry = telemetry
        self._agent_name = agent_name
        self._capture = capture_content
        self._run_context: otel_context.Context | None = None
        """The caller's context with the run's span in it: the parent of every other span."""
        self._chat: trace.Span = trace.INVALID_SPAN
        self._chat_error: str | None = None
        self._response_model: str | None = None

    # -- the run -----------------------------------------------------------------------------

    @contextmanager
    def around_run(self, run: ObservedRun, /) -> Generator[None]:
        """The ``invoke_agent`` span, a child of whatever span is current when the run starts."""
        config = run.config
        attributes = model_attributes(names.INVOKE_AGENT, config.model)
        name = names.INVOKE_AGENT
        if self._agent_name:
            attributes[names.AGENT_NAME] = self._agent_name
            name = f"{name} {self._agent_name}"
        attributes.update(names.request_attributes(config.call_template))
        if self._capture:
            attributes[names.INPUT_MESSAGES] = input_messages(config.messages)
        span = self._telemetry.tracer.start_span(name, kind=SpanKind.INTERNAL, attributes=attributes)
        self._run_context = trace.set_span_in_context(span)
        try:
            yield
        except Exception as error:
            _fail(span, error)
            span.record_exception(error)  # the run's final error leaves reverie here
            if isinstance(error, BudgetExceededError):
                # A spent budget stops a run that did answer: its tokens were spent all the same.
                span.set_attributes(names.usage_attributes(names.total_usage(error.result.steps)))
            raise
        else:
            result = run.result
            if result is not None:
                span.set_attributes(names.usage_attributes(names.total_usage(result.steps)))
                span.set_attribute(names.FINISH_REASONS, [names.finish_reason(result.finish_reason)])
                if self._capture and result.steps:
                    last = result.steps[-1]
                    said = [
                        part
                        for message in last.messages
                        if message.role == "assistant"
                        for part in message.content
                    ]
                    span.set_attribute(names.OUTPUT_MESSAGES, output_messages(said, last.finish_reason))
        finally:
            span.end()

    # -- model requests ----------------------------------------------------------------------

    def around(self, action: Action, /) -> AbstractContextManager[object]:
        """A ``chat`` span around each ``CallModel``; nothing around waits and tool batches."""
        if isinstance(action, CallModel):
            return self._around_request(action)
        return _NOTHING

    @contextmanager
    def _around_request(self, action: CallModel) -> Generator[None]:
        model = action.model
        attributes = model_attributes(names.CHAT, model)
        attributes.update(names.request_attributes(action.call))
        if self._capture:
            attributes[names.INPUT_MESSAGES] = input_messages(action.call.prompt)
        span = self._telemetry.tracer.start_span(
            f"{names.CHAT} {model.model_id}",
            context=self._run_context,
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        self._chat, self._chat_error, self._response_model = span, None, None
        started = time.perf_counter()
        try:
            yield
        except Exception as error:
            if self._chat_error is None:  # not a failed request: a callback raised while it streamed
                self._chat_error = _fail(span, error)
            raise
        finally:
            measured = _metric_attributes(model.provider, model.model_id, self._response_model)
            if self._chat_error is not None:
                measured[names.ERROR_TYPE] = self._chat_error
            self._telemetry.operation_duration.record(time.perf_counter() - started, measured)
            self._chat = trace.INVALID_SPAN
            span.end()

    def model_answered(self, action: CallModel, run: ObservedRun, /) -> None:
        """Response attributes and token usage of the request that just ended."""
        span = self._chat
        answer = run.answer()
        if answer is None:
            # A stream that ended without its finish part: the run treats it as a retryable
            # ProviderError, and so does its span.
            self._chat_error = "ProviderError"
            span.set_attribute(names.ERROR_TYPE, self._chat_error)
            span.set_status(Status(StatusCode.ERROR, "the stream ended without a finish"))
            return
        span.set_attributes(names.response_attributes(answer))
        if self._capture:
            span.set_attribute(names.OUTPUT_MESSAGES, output_messages(answer.content, answer.finish_reason))
        self._response_model = answer.response_model_id or None
        model = action.model
        measured = _metric_attributes(model.provider, model.model_id, self._response_model)
        usage = answer.usage
        record = self._telemetry.token_usage.record
        record(usage.input_tokens, {**measured, names.TOKEN_TYPE: "input"})
        record(usage.output_tokens, {**measured, names.TOKEN_TYPE: "output"})

    def model_failed(self, action: CallModel, error: ReverieError, /) -> None:
        """Mark the request's span failed (``error.type``: the HTTP status, else the error's class)."""
        self._chat_error = _fail(self._chat, error)

    # -- tools -------------------------------------------------------------------------------

    @contextmanager
    def around_tool(self, call: ToolCallPart, /) -> Generator[None]:
        """An ``execute_tool`` span, current while the tool runs (in the tool's own context)."""
        attributes: Attributes = {
            names.OPERATION_NAME: names.EXECUTE_TOOL,
            names.TOOL_NAME: call.tool_name,
            names.TOOL_CALL_ID: call.tool_call_id,
            names.TOOL_TYPE: "function",
        }
        if self._capture:
            attributes[names.TOOL_CALL_ARGUMENTS] = call.input
        span = self._telemetry.tracer.start_span(
            f"{names.EXECUTE_TOOL} {call.tool_name}",
            context=self._run_context,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield
        except Exception as error:  # escaped the run's own handling (misuse of the sync API)
            _fail(span, error)
            span.record_exception(error)
            raise
        finally:
            otel_context.detach(token)
            span.end()

    def tool_ended(self, call: ToolCallPart, result: ToolResultPart, error: BaseException | None, /) -> None:
        """The result (when content is captured) and, for a failed call, ``error.type``."""
        span = trace.get_current_span()  # this call's span: around_tool made it current here
        if self._capture:
            span.set_attribute(names.TOOL_CALL_RESULT, result.output)
        if error is not None:
            _fail(span, error)
            span.record_exception(error)  # the run goes on, but the tool's traceback is worth keeping
        elif result.is_error:
            kind = names.INVALID_TOOL_CALL if call.invalid else names.OTHER_ERROR
            span.set_attribute(names.ERROR_TYPE, kind)
            span.set_status(Status(StatusCode.ERROR, result.output))


def _fail(span: trace.Span, error: BaseException) -> str:
    """Mark ``span`` failed with ``error``; returns its ``error.type``."""
    kind = error_type(error)
    span.set_attribute(names.ERROR_TYPE, kind)
    span.set_status(Status(StatusCode.ERROR, str(error) or kind))
    return kind


def _metric_attributes(provider: str, model_id: str, response_model: str | None) -> Attributes:
    """The attributes of a request's measurements (a bounded set: no ids, no content)."""
    measured: Attributes = {
        names.OPERATION_NAME: names.CHAT,
        names.PROVIDER_NAME: provider_name(provider),
        names.REQUEST_MODEL: model_id,
    }
    if response_model:
        measured[names.RESPONSE_MODEL] = response_model
    return measured
