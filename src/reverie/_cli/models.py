"""``reverie models``: the providers a model string may name, their variables, and which keys are set.

Only whether a variable is set is shown, never its value.

Does not: import the providers or ask any service which models it has.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TextIO

from reverie._cli.render import open_output


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """What ``reverie models`` says about one provider."""

    name: str
    key_variables: tuple[str, ...]
    """The environment variables that hold its key, any one of them (none: no key needed)."""
    example: str
    """A model string for it."""
    note: str = ""


PROVIDERS: tuple[ProviderInfo, ...] = (
    ProviderInfo("anthropic", ("ANTHROPIC_API_KEY",), "anthropic:claude-sonnet-4-20250514"),
    ProviderInfo(
        "azure",
        ("AZURE_OPENAI_API_KEY",),
        "azure:gpt-4o",
        "resource URL: AZURE_OPENAI_ENDPOINT or --base-url",
    ),
    ProviderInfo(
        "bedrock",
        ("AWS_BEARER_TOKEN_BEDROCK",),
        "bedrock:us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "or the AWS credential chain (reverie[bedrock]); region: AWS_REGION",
    ),
    ProviderInfo("google", ("GEMINI_API_KEY", "GOOGLE_API_KEY"), "google:gemini-2.5-flash"),
    ProviderInfo("openai", ("OPENAI_API_KEY",), "openai:gpt-4o"),
    ProviderInfo(
        "openaicompat",
        (),
        "openaicompat:llama3@http://localhost:11434/v1",
        "any OpenAI-compatible server; --api-key if it wants one",
    ),
    ProviderInfo("openrouter", ("OPENROUTER_API_KEY",), "openrouter:moonshotai/kimi-k2-0905"),
    ProviderInfo("vercel", ("AI_GATEWAY_API_KEY",), "vercel:anthropic/claude-sonnet-4"),
    ProviderInfo(
        "vertex",
        ("GOOGLE_APPLICATION_CREDENTIALS",),
        "vertex:gemini-2.5-flash",
        "or Application Default Credentials (reverie[vertex]); project: GOOGLE_CLOUD_PROJECT",
    ),
)
"""Every provider of ``reverie._model_strings.KNOWN_PROVIDERS``, in the same order."""


def key_status(info: ProviderInfo) -> str:
    """``set (NAME)``, ``not set`` or ``not needed``; never the value."""
    if not info.key_variables:
        return "not needed"
    found = [name for name in info.key_variables if os.environ.get(name)]
    return f"set ({found[0]})" if found else "not set"


def models(*, stdout: TextIO, stderr: TextIO) -> int:
    """Print the providers table; returns the exit code."""
    output = open_output(stdout, stderr)
    rows = [
        [info.name, " or ".join(info.key_variables) or "-", key_status(info), info.example, info.note]
        for info in PROVIDERS
    ]
    output.table(["provider", "key variable", "key", "model string", "note"], rows)
    return 0
