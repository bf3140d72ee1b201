"""The errors reverie raises, all under one base.

    ReverieError
    ├── ProviderError          the provider answered with an error, or the exchange broke
    │   └── TooManyOpenFilesError  no file descriptor left for a connection (never retried)
    ├── InvalidResponseError   a response or stream event with a shape we cannot read
    ├── RetryError             every attempt failed; ``errors`` holds each one
    ├── NoObjectGeneratedError the model's output is not valid JSON or does not fit the schema
    ├── MissingAPIKeyError     no key passed and none in the environment
    ├── DeadlineExceededError  the run's ``deadline`` passed (retries and tool runs included)
    ├── BudgetExceededError    the run's ``Budget`` (money, tokens, requests) is spent
    ├── RestoredError          an error read back from JSON (``reverie.from_json``)
    └── UserError              the library was used in a way it cannot honour

``ProviderError`` knows whether a retry may help (``is_retryable``). httpx2's own
exceptions are mapped to these in a single place, ``reverie._http.errors``. Messages, reprs and
attributes never hold API keys: request headers are not kept at all, and every known secret
(``reverie._secrets``) is redacted from messages, URLs and the bodies an error keeps.
"""

from __future__ import annotations

import errno as errno_codes
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from reverie._secrets import redact

if TYPE_CHECKING:
    from typing import Any

    from reverie._content import FinishReason, Usage
    from reverie._results import AgentResult, StepResult

_RETRYABLE_STATUS = frozenset({408, 409, 429})
# How providers word "the prompt does not fit the context window" (OpenAI's code, its
# message, Anthropic's and Gemini's messages).
_CONTEXT_TOO_LARGE_MARKERS = (
    "context_length",  # OpenAI's code context_length_exceeded
    "maximum context length",
    "context length",
    "context window",
    "too many tokens",
    "prompt is too long",
    "input token count",
    "exceeds the maximum number of tokens",
)
_MAX_BODY_IN_MESSAGE = 500


class ReverieError(Exception):
    """Base of every error reverie raises."""

    partial_step: StepResult | None = None
    """For errors raised by a stream: what the failed step had already produced."""
    reported_usage: Usage | None = None
    """Tokens the provider reported for the failed request before it failed (a stream that
    broke after its usage arrived, an error answer that carries usage); ``None``: none."""

    @property
    def partial_text(self) -> str:
        """The text streamed before the failure ("" when nothing was streamed)."""
        return self.partial_step.text if self.partial_step is not None else ""


class UserError(ReverieError):
    """The library was called in a way it cannot honour (bad option, wrong context)."""


class MissingAPIKeyError(UserError):
    """No API key was passed and the environment variable is unset."""

    def __init__(self, *, provider: str, parameter: str, env_var: str, hint: str = "") -> None:
        super().__init__(
            f"{provider}: no API key. Pass {parameter}=... to the Provider "
            f"or set the {env_var} environment variable." + (f" {hint}" if hint else "")
        )
        self.provider = provider
        self.parameter = parameter
        self.env_var = env_var


class InvalidResponseError(ReverieError):
    """The provider sent something we cannot read (bad JSON, wrong shape)."""

    def __init__(self, message: str, *, body: str | None = None, url: str | None = None) -> None:
        body = redact(body) if body is not None else None
        detail = f": {clip_body(body)}" if body else ""
        super().__init__(redact(f"{message}{detail}"))
        self.body = body
        self.url = redact(url) if url is not None else None


class ProviderError(ReverieError):
    """The provider answered with an error, or the exchange with it broke.

    Attributes mirror fantasy's ``ProviderError``: the status code (``None`` for a
    broken connection or an in-band stream error), the URL, the request body, the
    lower-cased response headers and the raw response body.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        url: str | None = None,
        request_body: str | None = None,
        response_headers: Mapping[str, str] | None = None,
        response_body: str | None = None,
        retryable: bool | None = None,
        is_context_too_large: bool = False,
    ) -> None:
        # A server may echo the key it was sent (in its message or body): known secrets
        # are redacted from everything the error keeps, so no str, repr or log shows them.
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.url = redact(url) if url is not None else None
        self.request_body = redact(request_body) if request_body is not None else None
        self.response_headers: dict[str, str] = {
            k.lower(): redact(v) for k, v in (response_headers or {}).items()
        }
        self.response_body = redact(response_body) if response_body is not None else None
        self.is_context_too_large = is_context_too_large
        self._retryable = retryable

    @property
    def is_retryable(self) -> bool:
        """Whether retrying the same request may succeed.

        True for 408, 409, 429 and 5xx, when the server says ``x-should-retry: true``,
        and for broken connections, in-band transient errors and incomplete streams
        (those set it explicitly). ``x-should-retry: false`` always wins.
        """
        should_retry = self.response_headers.get("x-should-retry")
        if should_retry == "false":
            return False
        if should_retry == "true":
            return True
        if self._retryable is not None:
            return self._retryable
        code = self.status_code
        return code is not None and (code in _RETRYABLE_STATUS or code >= 500)

    def __str__(self) -> str:
        where = f" ({self.url})" if self.url else ""
        status = f"HTTP {self.status_code}: " if self.status_code is not None else ""
        return f"{status}{self.message}{where}"

    def __repr__(self) -> str:
        return f"ProviderError(status_code={self.status_code!r}, message={self.message!r}, url={self.url!r})"


class TooManyOpenFilesError(ProviderError):
    """The process (``EMFILE``) or the system (``ENFILE``) ran out of file descriptors.

    A new connection needs a socket, and none could be opened. This is never retried: every
    request in flight competes for the same descriptors, so retries would only fail the same
    way, in a storm. The message names the fix: raise the limit (``ulimit -n``), or send fewer
    requests at once (fewer concurrent runs, or ``Provider(max_connections=...)``).

    Attributes:
        errno: ``errno.EMFILE`` or ``errno.ENFILE``.
        open_files_limit: The process's soft limit (``RLIMIT_NOFILE``), where the platform
            tells it; ``None`` otherwise.
    """

    def __init__(
        self,
        *,
        errno: int,
        open_files_limit: int | None = None,
        url: str | None = None,
        request_body: str | None = None,
        during: str = "while connecting",
    ) -> None:
        if errno == errno_codes.ENFILE:
            cause = "the system's open-file table is full (ENFILE)"
            fix = "raise the system's limit (fs.file-max) or lower the concurrency"
        else:
            limit = f" of {open_files_limit}" if open_files_limit is not None else ""
            cause = f"this process reached its limit{limit} open files (EMFILE)"
            fix = "raise it (ulimit -n, or resource.setrlimit(RLIMIT_NOFILE)) or lower the concurrency"
        super().__init__(
            f"out of file descriptors {during}: {cause}. To fix it, {fix}: fewer requests in "
            "flight at once, or Provider(max_connections=...). Not retried: every retry would "
            "need a descriptor too",
            url=url,
            request_body=request_body,
            retryable=False,
        )
        self.errno = errno
        self.open_files_limit = open_files_limit


class RetryError(ReverieError):
    """Every attempt failed (or a retry hit an error that cannot be retried).

    ``errors`` holds each attempt's error in order; the last one is also ``__cause__``.
    """

    def __init__(self, errors: Sequence[ReverieError]) -> None:
        self.errors: list[ReverieError] = list(errors)
        last = self.errors[-1]
        super().__init__(f"failed after {len(self.errors)} attempts; last error: {last}")
        self.partial_step = last.partial_step

    @property
    def last_error(self) -> ReverieError:
        """The error of the final attempt."""
        return self.errors[-1]


class DeadlineExceededError(ReverieError):
    """The run's ``deadline`` passed before it finished; never retried.

    Raised before a model request that would start after the deadline, or instead of a retry
    or a rate-limit wait that would end after it. ``errors`` holds the failed attempts of the step in
    progress (empty when none failed) and ``partial_step`` what it had produced.

    Attributes:
        deadline: The run's deadline, in seconds.
        errors: The attempts of the current step that failed before the deadline.
    """

    def __init__(
        self, deadline: float, errors: Sequence[ReverieError] = (), *, message: str | None = None
    ) -> None:
        last = f"; the last attempt failed with: {errors[-1]}" if errors else ""
        super().__init__(message or f"the run's deadline of {deadline:g} s passed{last}")
        self.deadline = deadline
        self.errors = list(errors)


class BudgetExceededError(ReverieError):
    """The run's ``Budget`` is spent: a request it does not allow, or a step that went past it.

    Never retried. ``result`` is the run so far: every finished step, including the one that
    went past the limit (even when it was the final answer).

    Attributes:
        result: The partial ``AgentResult``.
        limit: The limit that was reached: ``"max_cost"``, ``"max_input_tokens"``,
            ``"max_output_tokens"`` or ``"max_requests"``.
        maximum: The limit's value.
        spent: What the budget had counted for that limit (over every run that shares it).
    """

    def __init__(
        self, message: str, *, result: AgentResult[Any], limit: str, maximum: float, spent: float
    ) -> None:
        super().__init__(message)
        self.result = result
        self.limit = limit
        self.maximum = maximum
        self.spent = spent


class RestoredError(ReverieError):
    """An error read back from a JSON document (``reverie.from_json``), as it was described there.

    A saved ``retry`` part keeps its error's class name, message, status code and retry
    decision; a ``ProviderError`` comes back as one, any other error as this class.

    Attributes:
        type_name: The class name of the original error (``"InvalidResponseError"``, ...).
        status_code: The HTTP status the original error carried, if any.
        retryable: Whether the original error was retryable, where that was known.
    """

    def __init__(
        self, message: str, *, type_name: str, status_code: int | None = None, retryable: bool | None = None
    ) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.status_code = status_code
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"RestoredError(type_name={self.type_name!r}, message={str(self)!r})"


class NoObjectGeneratedError(ReverieError):
    """The model answered, but its output is not valid JSON or does not fit the schema.

    Attributes:
        raw_text: The text the model produced for the object (the reply, or the input of
            the forced tool call).
        error: The JSON parse error or the validation error.
        usage: The tokens the call used.
        finish_reason: Why the model stopped (``"length"`` often explains cut JSON).
    """

    def __init__(
        self,
        message: str,
        *,
        raw_text: str,
        error: BaseException | None,
        usage: Usage,
        finish_reason: FinishReason,
    ) -> None:
        super().__init__(message)
        self.raw_text = raw_text
        self.error = error
        self.usage = usage
        self.finish_reason = finish_reason

    def __repr__(self) -> str:
        return (
            f"NoObjectGeneratedError(finish_reason={self.finish_reason!r}, "
            f"raw_text={clip_body(self.raw_text)!r})"
        )


def mentions_context_limit(text: str) -> bool:
    """Whether an error message says the prompt does not fit the model's context window."""
    lowered = text.lower()
    return any(marker in lowered for marker in _CONTEXT_TOO_LARGE_MARKERS)


def unreadable_body_message(status_code: int, headers: Mapping[str, str], body: str) -> str:
    """The message for an error answer whose body holds no provider message (HTML, text, nothing)."""
    if not body.strip():
        return f"empty response body with status {status_code}"
    content_type = headers.get("content-type", "")
    kind = "an HTML" if "html" in content_type or body.lstrip().startswith("<") else "a non-JSON"
    return f"{kind} response body with status {status_code}: {clip_body(body)}"


def clip_body(text: str) -> str:
    """A response body shortened for an error message."""
    text = text.strip()
    return text if len(text) <= _MAX_BODY_IN_MESSAGE else text[:_MAX_BODY_IN_MESSAGE] + "…"


class InterruptedToolError(ReverieError):
    """A durable run stopped at a tool call that had started and never recorded a result.

    The call's tool is not idempotent (``@tool(idempotent=False)``, the default), so running it
    again could do its work twice (charge a card twice). Find out what the call did, then go on
    with ``agent.resume(run_id, journal=..., tool_results={tool_call_id: output})``.

    Attributes:
        tool_call_id: The id of the interrupted call.
        tool_name: The tool it called.
        run_id: The run's id in the journal.
    """

    def __init__(self, *, tool_call_id: str, tool_name: str, run_id: str) -> None:
        super().__init__(
            f"run {run_id!r} was interrupted while the tool {tool_name!r} ran (call {tool_call_id}), "
            "and the tool is not idempotent: find out what the call did, then go on with "
            f"agent.resume({run_id!r}, journal=..., tool_results={{{tool_call_id!r}: output}})"
        )
        self.tool_call_id = tool_call_id
        self.tool_name = tool_name
        self.run_id = run_id


class JournalError(ReverieError):
    """A journal (or a batch's store) could not be opened, read or written.

    For example a file that is not a journal, a folder that does not exist, a database locked
    past the timeout, or an unreadable entry.

    The store's own error (e.g. ``sqlite3.OperationalError``) is the ``__cause__``.

    Attributes:
        path: The journal's file, when it has one.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class JournalConflictError(JournalError):
    """Another writer recorded an entry of the same run first: two processes drive one ``run_id``.

    Attributes:
        run_id: The run both writers recorded.
    """

    def __init__(self, message: str, *, run_id: str) -> None:
        super().__init__(message)
        self.run_id = run_id
