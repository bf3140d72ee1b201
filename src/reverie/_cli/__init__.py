"""The ``reverie`` command line: ``run``, ``batch``, ``chat``, ``models`` and ``demo``.

    reverie run "prompt" -m PROVIDER:MODEL [--system TEXT] [--schema FILE.json|module:Type] [--json]
    reverie batch INPUT.jsonl -m PROVIDER:MODEL --out OUT.jsonl [--concurrency N] [--journal FILE.db]
        [--budget-usd X] [--schema FILE.json|module:Type] [--system TEXT] [--retry-failed]
    reverie chat -m PROVIDER:MODEL [--system TEXT]
    reverie models
    reverie demo [--live] [--provider NAME] [--model ID]

Every command takes ``--api-key``, ``--base-url``, ``--timeout`` and ``--verbose``, before or
after its name. This module parses the arguments, dispatches, and turns errors into messages
and exit codes (``common`` lists them); each command lives in its own module and loads only
when it runs, so ``reverie --version`` stays quick and the base install (without the
``reverie[cli]`` extra, rich) runs every command. The CLI only formats what the public API
reports; it adds no behaviour of its own, and it never imports the test kit (``reverie.testing``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from reverie._cli.common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    Connection,
    UsageError,
    command_logging,
    describe_error,
    print_error,
)
from reverie._errors import ReverieError
from reverie._version import __version__

DEMO_PROVIDERS = ("anthropic", "google", "openrouter")
"""The providers ``reverie demo --live`` can call."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``reverie`` command; returns the exit code."""
    arguments = _parser().parse_args(argv)
    connection = Connection(api_key=arguments.api_key, base_url=arguments.base_url, timeout=arguments.timeout)
    try:
        with command_logging(verbose=arguments.verbose, stream=sys.stderr):
            return _dispatch(arguments, connection)
    except (UsageError, ReverieError) as error:
        message, code = describe_error(error)
        print_error(message)
        return code
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (reverie run ... | head): stop quietly, and keep Python from
        # complaining again when it flushes standard output at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE


def _dispatch(arguments: argparse.Namespace, connection: Connection) -> int:
    command: str = arguments.command
    if command == "run":
        from reverie._cli.run import RunOptions, run

        options = RunOptions(
            model=arguments.model,
            prompt=arguments.prompt,
            system=arguments.system,
            schema=arguments.schema,
            json=arguments.json,
            connection=connection,
        )
        return run(options, stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)
    if command == "batch":
        from reverie._cli.batch import BatchOptions, batch

        options = BatchOptions(
            input=arguments.input,
            model=arguments.model,
            out=arguments.out,
            concurrency=arguments.concurrency,
            journal=arguments.journal,
            budget_usd=arguments.budget_usd,
            schema=arguments.schema,
            system=arguments.system,
            retry_failed=arguments.retry_failed,
            batch_key=arguments.batch_key,
            connection=connection,
        )
        return batch(options, stderr=sys.stderr)
    if command == "chat":
        from reverie._cli.chat import ChatOptions, chat

        options = ChatOptions(model=arguments.model, system=arguments.system, connection=connection)
        return chat(options, stdout=sys.stdout, stderr=sys.stderr)
    if command == "models":
        from reverie._cli.models import models

        return models(stdout=sys.stdout, stderr=sys.stderr)
    from reverie._cli.demo import run_demo

    return run_demo(
        live=arguments.live, provider=arguments.provider, model=arguments.model, connection=connection
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _dollars(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an amount of US dollars: {text!r}") from None
    if not value >= 0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def _common_options(*, in_command: bool) -> argparse.ArgumentParser:
    # The same options on the main parser and on each command. In a command their defaults are
    # SUPPRESS, so an option given before the command name is not reset by the command's parser.
    default: Any = argparse.SUPPRESS if in_command else None
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("connection options")
    group.add_argument(
        "--api-key",
        metavar="KEY",
        default=default,
        help="the provider's key (default: its environment variable; see 'reverie models')",
    )
    group.add_argument(
        "--base-url", metavar="URL", default=default, help="where to send requests; wins over a URL in -m"
    )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        default=default,
        help="seconds one model request may take, whole stream included",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS if in_command else False,
        help="log each request and retry on standard error (the reverie logger at DEBUG)",
    )
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reverie",
        description="reverie: AI agents over many LLM providers.",
        epilog="Exit codes: 0 success, 1 the provider or the run failed, 2 a usage error, 130 Ctrl-C.",
        parents=[_common_options(in_command=False)],
    )
    parser.add_argument("--version", action="version", version=f"reverie {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = [_common_options(in_command=True)]
    model_help = "the model, PROVIDER:MODEL_ID (e.g. openai:gpt-4o; see 'reverie models')"

    run = commands.add_parser(
        "run",
        parents=common,
        help="ask once and stream the answer",
        description="Ask once and stream the answer. Piped standard input is the prompt, or, with a "
        "prompt argument too, is appended to it (after a blank line) as context.",
    )
    run.add_argument("prompt", nargs="?", help="the prompt (default: standard input)")
    run.add_argument("-m", "--model", required=True, help=model_help)
    run.add_argument("-s", "--system", metavar="TEXT", help="a system prompt")
    run.add_argument(
        "--schema",
        metavar="FILE.json|module:Type",
        help="answer with an object fitting this JSON schema file or type (pydantic model, "
        "dataclass, TypedDict), printed as JSON",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON document: text, finish_reason, usage, cost (and output)",
    )

    batch = commands.add_parser(
        "batch",
        parents=common,
        help="answer every prompt of a JSON-lines file",
        description='Answer every prompt of a JSON-lines file ({"id": ..., "prompt": "..."} per line; '
        'optional "system" and "messages"), a few at a time, and write one JSON line per item, in '
        "input order. Exit codes: 0 all answered, 1 some failed, 2 a usage error (a bad input line), "
        "130 Ctrl-C.",
    )
    batch.add_argument("input", metavar="INPUT.jsonl", help="the items, one JSON object per line")
    batch.add_argument("-m", "--model", required=True, help=model_help)
    batch.add_argument("-o", "--out", metavar="OUT.jsonl", required=True, help="where to write the answers")
    batch.add_argument(
        "-c", "--concurrency", metavar="N", type=_positive_int, default=8, help="items at once (default: 8)"
    )
    batch.add_argument(
        "--journal",
        metavar="FILE.db",
        help="keep each finished item in this SQLite file; the same command again resumes",
    )
    batch.add_argument(
        "--budget-usd",
        metavar="X",
        type=_dollars,
        help="stop sending once the batch has spent this many US dollars (the rest fail)",
    )
    batch.add_argument(
        "--schema",
        metavar="FILE.json|module:Type",
        help="answer each item with an object fitting this JSON schema file or type (the output field)",
    )
    batch.add_argument("-s", "--system", metavar="TEXT", help="a system prompt for every item")
    batch.add_argument(
        "--retry-failed", action="store_true", help="with --journal: send the items that failed before again"
    )
    batch.add_argument(
        "--batch-key", metavar="NAME", help="names the batch in the journal (default: the input file's path)"
    )

    chat = commands.add_parser(
        "chat",
        parents=common,
        help="talk with a model",
        description='Talk with a model. A line of """ starts and ends a message of several lines; '
        "/reset, /model PROVIDER:MODEL, /save FILE, /help, /exit. Ctrl-C stops an answer, Ctrl-D exits.",
    )
    chat.add_argument("-m", "--model", required=True, help=model_help)
    chat.add_argument("-s", "--system", metavar="TEXT", help="a system prompt")

    commands.add_parser(
        "models",
        parents=common,
        help="list the providers, their key variables and whether a key is set",
        description="List the providers a model string may name, their environment variables and "
        "whether a key is set (never its value).",
    )

    demo = commands.add_parser(
        "demo", parents=common, help="run the two demo agents (offline replay by default)"
    )
    demo.add_argument("--live", action="store_true", help="call the real service instead of replaying")
    demo.add_argument(
        "--provider",
        choices=DEMO_PROVIDERS,
        default="openrouter",
        help="provider for --live runs (default: openrouter)",
    )
    demo.add_argument("--model", help="model id for --live runs (default: the provider's demo model)")
    return parser
