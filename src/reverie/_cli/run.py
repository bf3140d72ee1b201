"""``reverie run``: one prompt, one answer, streamed.

    reverie run "Explain SSE in one paragraph" -m openai:gpt-4o
    git diff | reverie run "Write a commit message for this diff" -m anthropic:claude-sonnet-4-20250514
    reverie run "Alice, 30, Paris" -m openai:gpt-4o-mini --schema models:Person --json

The answer streams to the terminal (see ``render``). ``--schema`` makes the agent end with a
typed object (its ``output_type``), printed as JSON. ``--json`` prints the whole result as one
JSON document instead (``text``, ``finish_reason``, ``usage``, ``cost``; ``output`` with
``--schema``), after the run ends.

Does not: keep a conversation (``chat``) or handle errors (``reverie._cli`` maps them to exit codes).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from reverie._cli.common import Connection, build_model, read_prompt
from reverie._cli.render import open_output
from reverie._cli.schema import Schema, load_schema, object_to_json

if TYPE_CHECKING:
    from reverie._results import AgentResult


@dataclass(frozen=True, slots=True)
class RunOptions:
    """The arguments of ``reverie run``."""

    model: str
    prompt: str | None = None
    system: str | None = None
    schema: str | None = None
    json: bool = False
    connection: Connection = field(default_factory=Connection)


def run(options: RunOptions, *, stdin: TextIO | None, stdout: TextIO, stderr: TextIO) -> int:
    """Ask once and print the answer; returns the exit code (errors are raised)."""
    from reverie._agent import Agent

    schema = load_schema(options.schema) if options.schema else None
    prompt = read_prompt(options.prompt, stdin)
    model = build_model(options.model, options.connection)
    agent: Agent[Any] = Agent(
        model, system_prompt=options.system, output_type=schema, timeout=options.connection.timeout
    )
    output = open_output(stdout, stderr)
    if options.json:
        # One document after the run: nothing else may reach standard output.
        result = agent.generate(prompt)
        output.json(result_document(result, schema))
        return 0
    with agent.stream(prompt) as stream:
        with output.answer(object_mode=schema is not None) as view:
            for part in stream:
                view.feed(part)
        result = stream.result()
    if schema is not None:
        output.json(object_to_json(result.output, schema))
    return 0


def result_document(result: AgentResult[Any], schema: Schema | None) -> dict[str, Any]:
    """What ``--json`` prints: the text, finish reason, usage, cost and, with a schema, the output."""
    document: dict[str, Any] = {
        "text": result.text,
        "finish_reason": result.finish_reason,
        "usage": dataclasses.asdict(result.total_usage),
        "cost": result.total_cost,
    }
    if schema is not None:
        document["output"] = object_to_json(result.output, schema)
    return document
