"""The demo's agent programs: prompts, tools, recordings and the retry policy of a replay.

This module only describes the programs; the command line (``reverie._cli``) runs and
narrates them, ``tools`` holds the tool functions and ``recordings`` opens the recordings.
"""

from __future__ import annotations

from dataclasses import dataclass

from reverie._retry import RetryPolicy

__all__ = ["OFFLINE_MODEL", "PROGRAMS", "REPLAY_RETRY", "SYSTEM_PROMPT", "Program"]

REPLAY_RETRY = RetryPolicy(max_retries=3, initial_delay=0.0, backoff_factor=2.0)
"""The retry policy the recordings were replayed with: no waiting between attempts."""

OFFLINE_MODEL = "moonshotai/kimi-k2-0905"
"""The OpenRouter model the bundled recordings were made with."""

SYSTEM_PROMPT = "You are a helpful assistant"
"""The system prompt of every demo program (as recorded)."""


@dataclass(frozen=True, slots=True)
class Program:
    """One demo program and the recording that replays it offline."""

    title: str
    """What the program shows, printed as its heading."""
    prompt: str
    tools: tuple[str, ...]
    """Names of its tools in ``reverie._demo.tools.TOOLS``."""
    streaming: bool
    """``stream`` the answer rather than ``generate`` it."""
    recording: str
    """File name of its bundled recording in the ``reverie._demo`` package."""
    upstream: str
    """The OpenRouter upstream the recording was routed to (a recorded request field)."""


PROGRAMS = (
    Program(
        title="Weather agent (a tool call, then the answer)",
        prompt="What's the weather in Florence,Italy?",
        tools=("weather",),
        streaming=False,
        recording="openrouter-kimi-k2-siliconflow-tool.json",
        upstream="siliconflow",
    ),
    Program(
        title="Streamed greeting (text as it arrives)",
        prompt="Say hi in Portuguese",
        tools=(),
        streaming=True,
        recording="openrouter-kimi-k2-wandb-simple_streaming.json",
        upstream="wandb",
    ),
)
"""The programs ``reverie demo`` runs, in order."""
