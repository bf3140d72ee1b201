"""``@tool``: a typed Python function as a ``Tool``.

The name and description come from the function and its docstring, the input schema
from its signature (``reverie._tools.schema``), and the same pydantic model validates
the model's input. The schema is built at decoration time, so a parameter type pydantic
cannot describe fails at ``@tool`` naming the tool and the parameter; only a function whose
annotations name types defined later in its module waits for first use.
A ``def`` tool called from async code runs in a worker thread; an ``async def`` tool
called from sync code gets a private event loop (``reverie._concurrency``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeAlias, TypeVar, overload

from reverie import _concurrency
from reverie._content import ProviderMetadata
from reverie._errors import UserError
from reverie._model import ToolDefinition
from reverie._tools import schema

if TYPE_CHECKING:
    from pydantic import BaseModel

P = ParamSpec("P")
R = TypeVar("R")
ApprovalRule: TypeAlias = bool | Callable[[dict[str, Any]], bool]
"""``@tool(requires_approval=...)``: always, never, or a function of a call's arguments."""


class FunctionTool(Generic[P, R]):
    """A Python function the model may call; implements the ``Tool`` protocol.

    A ``FunctionTool`` is still callable like the function it wraps.
    """

    def __init__(
        self,
        function: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        parallel: bool = False,
        provider_options: Mapping[str, Mapping[str, Any]] | None = None,
        timeout: float | None = None,
        requires_approval: ApprovalRule = False,
        idempotent: bool = False,
    ) -> None:
        if not callable(function):
            raise UserError(f"@tool expects a function, got {type(function).__name__}")
        self.function = function
        self.name = name or function.__name__
        self._description = description
        self.parallel = parallel
        """Calls of parallel tools in one step run concurrently."""
        self.provider_options: ProviderMetadata = {
            key: dict(value) for key, value in (provider_options or {}).items()
        }
        """Sent with the tool's definition, e.g. an Anthropic ``cache_control`` marker."""
        if timeout is not None and not timeout > 0:  # NaN fails this too
            raise UserError(
                f"tool {self.name!r}: timeout must be a positive number of seconds; got {timeout!r}"
            )
        self.timeout = timeout
        """Seconds a call may run; past them the model gets an error result (``None``: no bound)."""
        if not isinstance(requires_approval, bool) and not callable(requires_approval):
            raise UserError(
                f"tool {self.name!r}: requires_approval must be True, False or a function of the arguments"
            )
        self.requires_approval: ApprovalRule = requires_approval
        """Whether a call waits for a person's approval: a bool, or a function of the validated
        arguments (a dict by parameter name) that says so for one call."""
        self.idempotent = bool(idempotent)
        """Whether running a call twice does no more than running it once (a durable run that
        was interrupted while the call ran may then run it again)."""
        self.is_async = inspect.iscoroutinefunction(function)
        self._signature = inspect.signature(function)
        for parameter in self._signature.parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise UserError(f"tool {self.name!r}: *args and **kwargs cannot be described to a model")
        if schema.annotations_resolve(function):
            self.parameters  # noqa: B018 (built now so that an indescribable parameter fails here)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"FunctionTool(name={self.name!r}, parallel={self.parallel})"

    @cached_property
    def _docs(self) -> tuple[str, dict[str, str]]:
        return schema.split_docstring(inspect.getdoc(self.function) or "")

    @property
    def description(self) -> str:
        """The description the model reads (the docstring unless given)."""
        return self._description if self._description is not None else self._docs[0]

    @cached_property
    def _input_model(self) -> tuple[type[BaseModel], str | None]:
        return schema.input_model(self.function, self.name, self._signature, self._docs[1])

    @cached_property
    def parameters(self) -> dict[str, Any]:
        """The JSON schema of the input, without ``title`` keys."""
        model, single = self._input_model
        return schema.json_schema(model, self.name, single)

    def definition(self) -> ToolDefinition:
        """The tool as sent to the model."""
        return ToolDefinition(
            name=self.name,
            description=self.description,
            parameters=self.parameters,
            provider_options={key: dict(value) for key, value in self.provider_options.items()},
        )

    def validate(self, input_json: str) -> dict[str, Any]:
        """Validate the model's JSON input into keyword arguments for the function.

        Raises:
            ToolInputError: the input is not JSON or does not fit the schema.
        """
        model, single = self._input_model
        value = schema.validate_input(model, self.name, input_json)
        if single is not None:
            return {single: value}
        return {name: getattr(value, name) for name in self._argument_names}

    @cached_property
    def _argument_names(self) -> tuple[str, ...]:
        # Kept: pydantic's ``model_fields`` goes through a descriptor on every access.
        return tuple(self._input_model[0].model_fields)

    def call(self, arguments: dict[str, Any]) -> Any:
        """Run the function with validated ``arguments`` from sync code.

        With a ``timeout``, an async function is cancelled when it runs out; a sync one runs
        in a thread that is left running (threads cannot be stopped) while the run goes on.

        Raises:
            ToolTimeoutError: (a ``TimeoutError``) the call outlasted ``timeout``.
        """
        function: Callable[..., Any] = self.function
        what = f"tool {self.name!r}"
        if self.is_async:
            coroutine = function(**arguments)
            if self.timeout is not None:
                coroutine = _concurrency.within_async(coroutine, self.timeout, what=what)
            return _concurrency.run_coroutine(coroutine, what=f"async {what}")
        if self.timeout is not None:
            return _concurrency.call_in_thread_within(function, arguments, self.timeout, what=what)
        return function(**arguments)

    async def call_async(self, arguments: dict[str, Any]) -> Any:
        """Run the function with validated ``arguments`` from async code (``timeout`` as in ``call``)."""
        function: Callable[..., Any] = self.function
        what = f"tool {self.name!r}"
        if self.is_async:
            if self.timeout is not None:
                return await _concurrency.within_async(function(**arguments), self.timeout, what=what)
            return await function(**arguments)
        if self.timeout is not None:
            return await _concurrency.run_in_thread_within(function, arguments, self.timeout, what=what)
        return await _concurrency.run_in_thread(function, arguments)


@overload
def tool(function: Callable[P, R], /) -> FunctionTool[P, R]: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    parallel: bool = False,
    provider_options: Mapping[str, Mapping[str, Any]] | None = None,
    timeout: float | None = None,
    requires_approval: ApprovalRule = False,
    idempotent: bool = False,
) -> Callable[[Callable[P, R]], FunctionTool[P, R]]: ...


def tool(
    function: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    parallel: bool = False,
    provider_options: Mapping[str, Mapping[str, Any]] | None = None,
    timeout: float | None = None,
    requires_approval: ApprovalRule = False,
    idempotent: bool = False,
) -> FunctionTool[P, R] | Callable[[Callable[P, R]], FunctionTool[P, R]]:
    """Make a function callable by the model; use bare (``@tool``) or with options.

    Args:
        function: The function (sync or async) when used bare.
        name: The name the model sees (default: the function's name).
        description: What the tool does (default: the docstring, without its ``Args:`` section).
        parallel: Let calls of this tool in one step run concurrently with other parallel calls.
        provider_options: Per-provider settings sent with the tool's definition, e.g.
            ``{"anthropic": {"cache_control": {"type": "ephemeral"}}}`` to cache the
            prompt up to and including this tool.
        timeout: Seconds a call may run; past them the model gets an error result saying so
            and the run goes on. An ``async def`` tool is cancelled; a ``def`` tool's thread
            cannot be stopped: the run stops waiting for it and the error says it was left
            running (default: no bound).
        requires_approval: Pause the run before a call of this tool until a person approves
            or refuses it (``Agent.resume``): ``True``, or a function of the call's arguments
            (a dict by parameter name) that says whether this call needs approval, e.g.
            ``lambda args: args["amount"] > 100``. The step's other calls run first.
        idempotent: Running a call twice does no more than running it once. A durable run
            (``journal=``) interrupted while such a call ran runs it again; a call of a tool
            that is not idempotent (the default) stops the run with ``InterruptedToolError``.
    """
    options = provider_options
    if function is not None:
        return FunctionTool(
            function,
            name=name,
            description=description,
            parallel=parallel,
            provider_options=options,
            timeout=timeout,
            requires_approval=requires_approval,
            idempotent=idempotent,
        )

    def decorate(inner: Callable[P, R]) -> FunctionTool[P, R]:
        return FunctionTool(
            inner,
            name=name,
            description=description,
            parallel=parallel,
            provider_options=options,
            timeout=timeout,
            requires_approval=requires_approval,
            idempotent=idempotent,
        )

    return decorate
