"""What the ``reverie`` commands share: the connection options, the model, logging, prompts and errors.

Exit codes, stable and documented in the README:

* ``0``: success.
* ``1``: the provider or the run failed (``ProviderError``, ``RetryError``, an unreadable
  answer, output that does not fit the schema, a passed deadline).
* ``2``: a usage error: bad arguments, an unknown provider, a missing key or base URL, a
  schema file or type that cannot be loaded, no prompt.
* ``130``: interrupted with Ctrl-C (``reverie run``).

Does not: parse arguments (``reverie._cli``), render answers (``render``) or run a command.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from reverie._errors import MissingAPIKeyError, ReverieError, UserError

if TYPE_CHECKING:
    from reverie._model import LanguageModel

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A mistake in how a command was called: printed as ``reverie: error: ...``, exit code 2."""


@dataclass(frozen=True, slots=True)
class Connection:
    """How to reach the model: ``--api-key``, ``--base-url`` and ``--timeout``."""

    api_key: str | None = None
    base_url: str | None = None
    """Wins over a URL in the model string."""
    timeout: float | None = None
    """Seconds one model request may take, whole stream included."""


def build_model(spec: str, connection: Connection) -> LanguageModel:
    """The model ``spec`` names (``"PROVIDER:MODEL_ID"``), reached as ``connection`` says.

    Raises:
        UserError: An unknown provider, a malformed string or a missing base URL.
        MissingAPIKeyError: No key given and none in the environment.
    """
    from reverie._model_strings import model, parse_model_string

    parsed = parse_model_string(spec)
    if parsed.provider == "openaicompat" and not (connection.base_url or parsed.base_url):
        raise UsageError(
            f"{spec!r} has no base URL: write openaicompat:MODEL@http://HOST/v1 or pass --base-url"
        )
    settings: dict[str, Any] = {}
    if connection.api_key is not None:
        # Vertex AI takes an OAuth access token where the others take an API key.
        settings["access_token" if parsed.provider == "vertex" else "api_key"] = connection.api_key
    return model(spec, base_url=connection.base_url, **settings)


def describe_error(error: BaseException) -> tuple[str, int]:
    """The message to print for ``error`` and the exit code it ends the command with."""
    if isinstance(error, MissingAPIKeyError):
        return f"no API key for {error.provider}: set {error.env_var} or pass --api-key", EXIT_USAGE
    if isinstance(error, UserError | UsageError):
        return str(error), EXIT_USAGE
    if isinstance(error, ReverieError):
        return str(error), EXIT_FAILURE
    return f"{type(error).__name__}: {error}", EXIT_FAILURE


@contextmanager
def command_logging(*, verbose: bool, stream: TextIO) -> Generator[None]:
    """Send the ``reverie`` logger to ``stream`` while a command runs: warnings, or all with ``--verbose``.

    Call warnings (a setting the provider ignored) are worth seeing on a command line, where
    nobody configured logging; ``--verbose`` adds each request and retry (DEBUG). The logger is
    left as it was found, for programs that call ``main`` themselves.
    """
    logger = logging.getLogger("reverie")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("reverie %(levelname)s %(name)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def wants_colour(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal that wants colour (``NO_COLOR`` unset, ``TERM`` not dumb)."""
    return is_terminal(stream) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def is_terminal(stream: TextIO | None) -> bool:
    """Whether ``stream`` is an open terminal."""
    try:
        return stream is not None and stream.isatty()
    except ValueError:  # a closed stream
        return False


def read_prompt(prompt: str | None, stdin: TextIO | None) -> str:
    """The prompt of ``reverie run``: the argument, the piped standard input, or both.

    Standard input is read when it is not a terminal. With a prompt argument too, the piped
    text is appended to it after a blank line, as context for the request.

    Raises:
        UsageError: Neither a prompt argument nor piped text.
    """
    piped = ""
    if stdin is not None and not is_terminal(stdin):
        piped = stdin.read()
    if prompt is not None and prompt.strip():
        return f"{prompt}\n\n{piped}" if piped.strip() else prompt
    if piped.strip():
        return piped
    raise UsageError('no prompt: pass one (reverie run "...") or pipe text to standard input')


def print_error(message: str, stream: TextIO | None = None) -> None:
    """Print ``reverie: error: message`` on standard error."""
    out = stream or sys.stderr
    out.write(f"reverie: error: {message}\n")
    out.flush()
