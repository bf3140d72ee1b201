"""The conformance scenarios as code: the agent programs, their tools and their checks.

A ``Scenario`` describes one recorded conversation (the fields of a cassette manifest
entry, from ``shared/cassettes`` or fantasy v0.41.2's ``shared/cassettes-v041``).
``build_provider`` and ``build_agent`` build the exact program that produced the recording
(provider arguments and credentials, ``tool_call_id`` counters, the ``prepare_step``
caching hook); ``run_scenario``/``run_scenario_async`` make one agent turn the way the
scenario says (``generate``, or ``stream`` then ``result()``; the prompt with its files, or
the follow-up turn); and ``check_scenario`` evaluates the assertions over the turns.

What it does not do: replay. The caller wires a ``Cassette`` into the provider's clients and
checks that every recorded interaction was used (``all_interactions_used``). Only ``agent``
programs run here; ``reverie.testing.object_programs`` runs the ``object`` programs and
``reverie.testing.model_call_programs`` the ``model_calls`` programs (computer use).

The tools (``SCENARIO_TOOLS``) and the replay retry policy (``REPLAY_RETRY``) are shared with
``reverie demo`` and live beside it in ``reverie._demo``, so that the command line never
imports this test kit; they are re-exported here under their usual names.
"""

from __future__ import annotations

import importlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import httpx2

from reverie._agent import Agent
from reverie._content import FilePart, Message
from reverie._demo.programs import REPLAY_RETRY as REPLAY_RETRY
from reverie._demo.tools import TOOLS as SCENARIO_TOOLS
from reverie._demo.tools import add as add
from reverie._demo.tools import multiply as multiply
from reverie._demo.tools import weather as weather
from reverie._model import ProviderTool
from reverie._parts import AgentStreamPart
from reverie._results import AgentResult
from reverie._retry import RetryPolicy
from reverie._run.step_hook import PrepareStep, StepContext, StepOverrides
from reverie.testing._agent_checks import CHECKS, request_header_problem, unknown_check

__all__ = [
    "DEFAULT_API_KEY",
    "PREPARE_STEPS",
    "SCENARIO_TOOLS",
    "Scenario",
    "anthropic_cache_hook",
    "build_agent",
    "build_provider",
    "check_requests",
    "check_scenario",
    "counting_tool_call_ids",
    "load_manifest",
    "provider_arguments",
    "provider_tools",
    "request_header_problem",
    "run_scenario",
    "run_scenario_async",
]

DEFAULT_API_KEY = "test-key"
"""The dummy key of every recording (none of them holds a credential)."""


@dataclass(slots=True, kw_only=True)
class Scenario:
    """One recorded program (a manifest entry)."""

    path: str
    """The recording, relative to the manifest's corpus folder."""
    kind: str
    """The provider module: ``openrouter``, ``openai``, ``openaicompat``, ``anthropic``, ``google``, ..."""
    base_url: str
    model: str
    scenario: str
    streaming: bool
    system_prompt: str | None
    """``None``: no system prompt (the object programs)."""
    prompt: str
    tools: list[str] = field(default_factory=list[str])
    max_output_tokens: int | None = None
    provider_options: dict[str, Any] | None = None
    assertions: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    match: Literal["strict", "lenient"] = "strict"
    """How the recording replays: ``strict`` (JSON-equal bodies) or ``lenient`` (method and URL)."""
    program: str = "agent"
    """``agent`` (the only kind this module runs), ``object`` or ``model_calls``."""
    suite: str = ""
    """The fantasy test function that recorded it (v0.41.2 manifest)."""
    model_dir: str = ""
    """The model directory of the recording within its suite (v0.41.2 manifest)."""
    provider_args: dict[str, Any] | None = None
    """Arguments of ``Provider(...)`` besides credentials; ``None``: ``base_url`` only."""
    auth: dict[str, Any] | None = None
    """Credentials of ``Provider(...)``: ``api_key``, ``access_token``, ``access_token_fn`` or
    ``aws_credentials``; ``None``: the dummy ``api_key``, ``{}``: none at all."""
    tool_call_ids: str | None = None
    """``"counter"``: the provider numbers tool calls ``"1"``, ``"2"``, ... (``tool_call_id=``)."""
    files: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    """Files sent with the prompt: ``path`` (relative to ``root``), ``media_type``, ``filename``."""
    prepare_step: str | None = None
    """A named ``prepare_step`` hook (a key of ``PREPARE_STEPS``)."""
    followup: dict[str, Any] | None = None
    """A second agent turn: its ``prompt``, sent after the first turn's messages."""
    object: dict[str, Any] | None = None
    """An ``object`` program's request (``reverie.testing.object_programs`` runs those)."""
    provider_tools: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    """Provider-defined tools of the agent: ``factory`` (``"anthropic.web_search"``) and ``args``."""
    computer_use: dict[str, Any] | None = None
    """A ``model_calls`` program's computer-use tool and screenshot
    (``reverie.testing.model_call_programs`` runs those)."""
    root: Path | None = None
    """The corpus folder that ``path`` and ``files`` are relative to (set by ``load_manifest``)."""

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], *, root: Path | None = None) -> Scenario:
        """Build from a manifest entry, ignoring bookkeeping fields.

        Args:
            entry: One element of a manifest's ``entries``.
            root: The folder the entry's ``path`` and ``files`` are relative to.

        Raises:
            ValueError: If the entry's ``match`` is neither ``strict`` nor ``lenient``.
        """
        names = set(cls.__dataclass_fields__) - {"root"}
        fields = {key: value for key, value in entry.items() if key in names}
        if fields.get("match") is None:  # the older manifest names only its lenient entries
            fields.pop("match", None)
        elif fields["match"] not in ("strict", "lenient"):
            raise ValueError(f"entry {entry.get('path')}: unknown match {fields['match']!r}")
        for name in ("tools", "files", "assertions", "provider_tools"):
            if name in fields and fields[name] is None:
                del fields[name]
        return cls(**fields, root=root)

    @property
    def name(self) -> str:
        """``path`` without its extension, e.g. ``openrouter/gpt-5/tool``."""
        return self.path.removesuffix(".yaml")

    @property
    def recording(self) -> Path:
        """The recording's file (needs ``root``)."""
        return self._root() / self.path

    def _root(self) -> Path:
        if self.root is None:
            raise ValueError(f"scenario {self.name} has no root folder; load it with load_manifest()")
        return self.root


def load_manifest(path: str | Path) -> list[Scenario]:
    """The scenarios of a ``manifest.json``, rooted at its ``corpus_dir``."""
    manifest = Path(path)
    data = json.loads(manifest.read_text())
    root = manifest.parent / data.get("corpus_dir", ".")
    return [Scenario.from_entry(entry, root=root) for entry in data["entries"]]


def counting_tool_call_ids() -> Callable[[], str]:
    """A fresh ``tool_call_id`` generator returning ``"1"``, ``"2"``, ... (fantasy's test counter)."""
    counter = itertools.count(1)
    return lambda: str(next(counter))


def provider_arguments(scenario: Scenario) -> dict[str, Any]:
    """The keyword arguments of the scenario's ``Provider(...)``, without the HTTP clients.

    Raises:
        ValueError: If the entry names an unknown credential form or ``tool_call_ids`` mode.
    """
    arguments: dict[str, Any] = (
        dict(scenario.provider_args)
        if scenario.provider_args is not None
        else {"base_url": scenario.base_url}
    )
    auth: dict[str, Any] = scenario.auth if scenario.auth is not None else {"api_key": DEFAULT_API_KEY}
    for form, value in auth.items():
        if form in ("api_key", "access_token"):
            arguments[form] = value
        elif form == "access_token_fn":
            arguments["access_token"] = _constant(value)
        elif form == "aws_credentials":
            module = importlib.import_module(f"reverie.providers.{scenario.kind}")
            credentials: dict[str, str] = value
            arguments["credentials"] = module.AWSCredentials(**credentials)
        else:
            raise ValueError(f"scenario {scenario.name}: unknown auth form {form!r}")
    if scenario.tool_call_ids == "counter":
        arguments["tool_call_id"] = counting_tool_call_ids()
    elif scenario.tool_call_ids is not None:
        raise ValueError(f"scenario {scenario.name}: unknown tool_call_ids {scenario.tool_call_ids!r}")
    return arguments


def _constant(value: str) -> Callable[[], str]:
    return lambda: value


def build_provider(
    scenario: Scenario,
    *,
    http_client: httpx2.Client | None = None,
    async_http_client: httpx2.AsyncClient | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
) -> Any:
    """``reverie.providers.<kind>.Provider(...)`` as the scenario's program builds it.

    Args:
        scenario: The program.
        http_client: The client of sync calls (e.g. over a ``Cassette``).
        async_http_client: The client of async calls.
        api_key: Replaces the scenario's ``api_key``.
        base_url: Replaces the scenario's ``base_url``.
    """
    module = importlib.import_module(f"reverie.providers.{scenario.kind}")
    arguments = provider_arguments(scenario)
    if api_key is not None:
        arguments["api_key"] = api_key
    if base_url is not None:
        arguments["base_url"] = base_url
    return module.Provider(**arguments, http_client=http_client, async_http_client=async_http_client)


def _cache_marker() -> dict[str, dict[str, Any]]:
    return {"anthropic": {"cache_control": {"type": "ephemeral"}}}


def anthropic_cache_hook(context: StepContext) -> StepOverrides:
    """The prompt-caching ``prepare_step`` of fantasy's ``*WithCacheControl`` test suites.

    On every step it clears the ``provider_options`` of all messages, then marks with an
    Anthropic ``cache_control`` the last system message (once, on reaching the first
    non-system message) and the last two messages.
    """
    messages = [replace(message, provider_options={}) for message in context.messages]
    last_system, system_marked = 0, False
    for index, message in enumerate(messages):
        if message.role == "system":
            last_system = index
        elif not system_marked:
            messages[last_system] = replace(messages[last_system], provider_options=_cache_marker())
            system_marked = True
        if index > len(messages) - 3:
            messages[index] = replace(messages[index], provider_options=_cache_marker())
    return StepOverrides(messages=messages)


PREPARE_STEPS: dict[str, PrepareStep] = {"anthropic_cache": anthropic_cache_hook}
"""The ``prepare_step`` hooks a manifest entry can name."""


def build_agent(
    scenario: Scenario,
    *,
    http_client: httpx2.Client | None = None,
    async_http_client: httpx2.AsyncClient | None = None,
    api_key: str | None = None,
    retry: RetryPolicy = REPLAY_RETRY,
    base_url: str | None = None,
) -> Agent:
    """The scenario's program: its provider, model, system prompt, tools and ``prepare_step``.

    Args:
        scenario: The program (an ``agent`` program).
        http_client: The client of sync calls (e.g. over a ``Cassette``).
        async_http_client: The client of async calls.
        api_key: Replaces the scenario's ``api_key`` (default: the scenario's, else ``test-key``).
        retry: The retry policy (default: the replay policy, which never waits).
        base_url: Replaces the scenario's ``base_url``.

    Raises:
        ValueError: If the scenario is not an agent program or names an unknown hook.
    """
    if scenario.program != "agent":
        raise ValueError(f"scenario {scenario.name} is a {scenario.program!r} program, not an agent")
    if scenario.prepare_step is not None and scenario.prepare_step not in PREPARE_STEPS:
        raise ValueError(f"scenario {scenario.name}: unknown prepare_step {scenario.prepare_step!r}")
    provider = build_provider(
        scenario,
        http_client=http_client,
        async_http_client=async_http_client,
        api_key=api_key,
        base_url=base_url,
    )
    return Agent(
        provider.language_model(scenario.model),
        system_prompt=scenario.system_prompt,
        tools=[*(SCENARIO_TOOLS[name] for name in scenario.tools), *provider_tools(scenario)],
        retry=retry,
        prepare_step=PREPARE_STEPS[scenario.prepare_step] if scenario.prepare_step else None,
    )


def provider_tools(scenario: Scenario) -> list[ProviderTool]:
    """The scenario's provider-defined tools, each made by its factory (``anthropic.web_search``).

    Raises:
        ValueError: If a factory is not ``<provider>.<function>`` of a provider module.
    """
    tools: list[ProviderTool] = []
    for entry in scenario.provider_tools:
        kind, _, name = str(entry["factory"]).partition(".")
        factory = getattr(importlib.import_module(f"reverie.providers.{kind}"), name, None)
        if factory is None or not name:
            raise ValueError(f"scenario {scenario.name}: unknown provider tool factory {entry['factory']!r}")
        tools.append(factory(**(entry.get("args") or {})))
    return tools


def _call_settings(scenario: Scenario) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if scenario.max_output_tokens is not None:
        settings["max_output_tokens"] = scenario.max_output_tokens
    if scenario.provider_options is not None:
        settings["provider_options"] = scenario.provider_options
    return settings


def _first_message(scenario: Scenario) -> Message:
    files = [
        FilePart(
            data=(scenario._root() / file["path"]).read_bytes(),
            media_type=file["media_type"],
            filename=file.get("filename"),
        )
        for file in scenario.files
    ]
    return Message.user(scenario.prompt, *files)


def _turn(
    scenario: Scenario, first_turn: AgentResult | None
) -> tuple[str | list[Message], list[Message] | None]:
    """The prompt and history of the first turn, or of the follow-up after ``first_turn``."""
    if first_turn is None:
        return ([_first_message(scenario)] if scenario.files else scenario.prompt), None
    if scenario.followup is None:
        raise ValueError(f"scenario {scenario.name} has no follow-up turn")
    return scenario.followup["prompt"], [_first_message(scenario), *first_turn.response_messages]


def run_scenario(
    scenario: Scenario,
    agent: Agent,
    *,
    on_part: Callable[[AgentStreamPart], None] | None = None,
    first_turn: AgentResult | None = None,
) -> AgentResult:
    """Make one of the scenario's agent turns (sync).

    Args:
        scenario: The program.
        agent: Its agent (``build_agent``).
        on_part: Called with every streamed part (streaming scenarios).
        first_turn: The first turn's result: run the ``followup`` turn after it.
    """
    prompt, history = _turn(scenario, first_turn)
    settings = _call_settings(scenario)
    if not scenario.streaming:
        return agent.generate(prompt, messages=history, **settings)
    stream = agent.stream(prompt, messages=history, **settings)
    for part in stream:
        if on_part is not None:
            on_part(part)
    return stream.result()


async def run_scenario_async(
    scenario: Scenario,
    agent: Agent,
    *,
    on_part: Callable[[AgentStreamPart], None] | None = None,
    first_turn: AgentResult | None = None,
) -> AgentResult:
    """Make one of the scenario's agent turns (async); see ``run_scenario``."""
    prompt, history = _turn(scenario, first_turn)
    settings = _call_settings(scenario)
    if not scenario.streaming:
        return await agent.generate_async(prompt, messages=history, **settings)
    stream = agent.stream_async(prompt, messages=history, **settings)
    async for part in stream:
        if on_part is not None:
            on_part(part)
    return await stream.result()


def check_scenario(
    scenario: Scenario,
    result: AgentResult | Sequence[AgentResult],
    *,
    requests: Sequence[httpx2.Request] | None = None,
) -> list[str]:
    """The scenario's assertions that the run fails, as messages (empty when all hold).

    Args:
        scenario: The program whose ``assertions`` are checked.
        result: The result of the run, or of each of its turns in order; an assertion's
            ``turn`` (default 0) picks the turn it is about.
        requests: The requests the run sent (e.g. ``Cassette.requests``), which the
            ``request_header`` assertions check; without them those assertions fail.

    ``all_interactions_used`` is the cassette's business and is skipped here.
    """
    turns = [result] if isinstance(result, AgentResult) else list(result)
    failures: list[str] = []
    for assertion in scenario.assertions:
        turn: int = assertion.get("turn", 0)
        problem: str | None
        if assertion["check"] == "request_header":  # about the requests, not a turn
            problem = request_header_problem(assertion, requests)
        elif turn >= len(turns):
            problem = f"no turn {turn} (the run had {len(turns)})"
        else:
            problem = CHECKS.get(assertion["check"], unknown_check)(assertion, turns[turn])
        if problem:
            where = f" (turn {turn})" if "turn" in assertion else ""
            failures.append(f"{assertion['check']}{where}: {problem}")
    return failures


def check_requests(assertions: Sequence[Mapping[str, Any]], requests: Sequence[httpx2.Request]) -> list[str]:
    """The ``request_header`` assertions that the sent ``requests`` fail, as messages.

    Args:
        assertions: A scenario's assertions; those of other checks are ignored.
        requests: The requests sent (e.g. ``Cassette.requests``).
    """
    failures: list[str] = []
    for assertion in assertions:
        if assertion["check"] == "request_header":
            problem = request_header_problem(assertion, requests)
            if problem:
                failures.append(f"request_header: {problem}")
    return failures
