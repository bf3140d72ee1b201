"""An agent with a tool that needs approval, made the same way in the test and in a new process.

``python -m tests.approval_helpers sync|async APPROVALS_JSON`` reads a paused result (a
``reverie.to_json`` document) on stdin, resumes it with ``Agent.resume`` (``sync``) or
``Agent.resume_async`` (``async``) and the given approvals, and writes the result as a
document on stdout. The model is scripted: asked for a first step it calls the tools, asked
again it says which results it read; the ``transfer`` tool reports the process it ran in.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from reverie import Agent, AgentResult, Call, Message, Response, ToolResultPart, from_json, to_json, tool
from reverie.testing import MockModel


@tool(requires_approval=lambda args: args["amount"] > 100)
def transfer(amount: int, to: str) -> str:
    """Send money."""
    return f"sent {amount} to {to} from process {os.getpid()}"


@tool
def balance() -> str:
    """The account's balance."""
    return "1000"


def answer(call: Call) -> Response | str:
    """Call the tools first; then say what the tool results were."""
    last: Message = call.prompt[-1]
    if last.role != "tool":
        return MockModel.tool_calls(("transfer", {"amount": 500, "to": "Ada"}), ("balance", {}))
    results = [part for part in last.content if isinstance(part, ToolResultPart)]
    return " | ".join(
        f"{part.tool_name}: {part.output}{' (error)' if part.is_error else ''}" for part in results
    )


def make_agent() -> Agent:
    """The agent of the approval tests, the same in every process."""
    return Agent(MockModel(answer), system_prompt="You move money.", tools=[transfer, balance])


def main(argv: list[str]) -> int:
    colour, approvals = argv[1], json.loads(argv[2])
    paused = from_json(sys.stdin.read(), AgentResult)
    agent = make_agent()
    if colour == "async":
        result = asyncio.run(agent.resume_async(paused, approvals=approvals))
    else:
        result = agent.resume(paused, approvals=approvals)
    sys.stdout.write(to_json(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
