"""``reverie chat``: an interactive conversation with a model.

Each line sent is a message; the history is kept and sent with the next one. A line holding
only ``\"\"\"`` opens a message of several lines and another such line closes it. Commands:
``/reset`` (forget the history), ``/model PROVIDER:MODEL`` (switch, keeping the history),
``/save FILE`` (the conversation as a JSON list of messages), ``/help``, ``/exit``.
Ctrl-C stops the answer being streamed and returns to the prompt (the part already shown
stays in the history); at the prompt it clears the line. Ctrl-D (or ``/exit``) ends the session.
Lines are read with ``input()``, with readline's line editing where it is available.

``--api-key`` and ``--base-url`` belong to the provider of ``-m``: ``/model`` keeps them for a
model of that provider and reads the environment for the others.

Does not: parse the command line (``reverie._cli``) or render parts (``render``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from reverie._cli.common import Connection, build_model, describe_error, print_error
from reverie._cli.render import Output, open_output

if TYPE_CHECKING:
    from reverie._agent import Agent
    from reverie._content import Message

PROMPT = "> "
CONTINUATION = "... "
FENCE = '"""'
HELP = """\
Enter sends a line; a line of \"\"\" starts a message of several lines, another one ends it.
/reset               forget the conversation
/model PROVIDER:ID   switch models (the conversation is kept)
/save FILE           write the conversation as JSON messages
/exit                end the session (or Ctrl-D); Ctrl-C stops an answer"""


@dataclass(frozen=True, slots=True)
class ChatOptions:
    """The arguments of ``reverie chat``."""

    model: str
    system: str | None = None
    connection: Connection = field(default_factory=Connection)


class _EndSession(Exception):
    """Ctrl-D or ``/exit``."""


def chat(
    options: ChatOptions,
    *,
    stdout: TextIO,
    stderr: TextIO,
    read_line: Callable[[str], str] = input,
) -> int:
    """Run the session until Ctrl-D or ``/exit``; returns the exit code.

    Errors building the first model are raised (they end the command); errors of an exchange
    are printed and the session goes on.
    """
    if read_line is input:
        _enable_line_editing()
    session = _Session(options, open_output(stdout, stderr), stderr, read_line)
    session.output.info(f"reverie chat · {options.model} · /help for commands, Ctrl-D to exit")
    try:
        while True:
            session.turn()
    except _EndSession:
        return 0


def _enable_line_editing() -> None:
    """Give ``input()`` readline's editing and history, where the platform has readline."""
    with contextlib.suppress(ImportError):  # platforms without readline keep plain input()
        import readline  # noqa: F401  # pyright: ignore[reportUnusedImport] - importing it turns it on


class _Session:
    def __init__(
        self, options: ChatOptions, output: Output, stderr: TextIO, read_line: Callable[[str], str]
    ) -> None:
        self.options = options
        self.output = output
        self.stderr = stderr
        self.read_line = read_line
        self.history: list[Message] = []
        self.spec = options.model
        self.agent = self._agent(options.model, options.connection)

    def _agent(self, spec: str, connection: Connection) -> Agent[Any]:
        from reverie._agent import Agent

        model = build_model(spec, connection)
        return Agent(model, system_prompt=self.options.system, timeout=connection.timeout)

    def turn(self) -> None:
        """Read one message or command and act on it."""
        text = self._read_message()
        if text is None or not text.strip():
            return
        if text.startswith("/") and "\n" not in text:
            self._command(text.strip())
        else:
            self._send(text)

    def _read_message(self) -> str | None:
        try:
            line = self.read_line(PROMPT)
        except EOFError:
            self._newline()
            raise _EndSession from None
        except KeyboardInterrupt:  # at the prompt: drop the line, as a shell does
            self._newline()
            return None
        if line.strip() != FENCE:
            return line
        lines: list[str] = []
        while True:
            try:
                line = self.read_line(CONTINUATION)
            except EOFError:
                self._newline()
                raise _EndSession from None
            except KeyboardInterrupt:
                self._newline()
                self.output.info("message dropped")
                return None
            if line.strip() == FENCE:
                return "\n".join(lines)
            lines.append(line)

    def _newline(self) -> None:
        self.stderr.write("\n")
        self.stderr.flush()

    def _command(self, line: str) -> None:
        name, _, argument = line.partition(" ")
        argument = argument.strip()
        if name in ("/exit", "/quit"):
            raise _EndSession
        if name == "/help":
            self.output.info(HELP)
        elif name == "/reset":
            self.history.clear()
            self.output.info("conversation cleared")
        elif name == "/model":
            self._switch_model(argument)
        elif name == "/save":
            self._save(argument)
        else:
            self.output.info(f"unknown command {name}; /help lists the commands")

    def _switch_model(self, spec: str) -> None:
        if not spec:
            self.output.info(f"model: {self.spec}")
            return
        from reverie._model_strings import parse_model_string

        connection = self.options.connection
        try:
            same_provider = (
                parse_model_string(spec).provider == parse_model_string(self.options.model).provider
            )
            if not same_provider:
                connection = replace(connection, api_key=None, base_url=None)
            self.agent = self._agent(spec, connection)
        except Exception as error:
            print_error(describe_error(error)[0], self.stderr)
            return
        self.spec = spec
        self.output.info(f"model: {spec} (the conversation is kept)")

    def _save(self, argument: str) -> None:
        if not argument:
            self.output.info("usage: /save FILE")
            return
        from pydantic import TypeAdapter

        from reverie._content import Message

        messages = list(self.history)
        if self.options.system:
            messages.insert(0, Message.system(self.options.system))
        document = TypeAdapter(list[Message]).dump_json(messages, indent=2)
        path = Path(argument).expanduser()
        try:
            path.write_bytes(document + b"\n")
        except OSError as error:
            print_error(f"/save {argument}: {error.strerror or error}", self.stderr)
            return
        self.output.info(f"saved {len(messages)} messages to {path}")

    def _send(self, text: str) -> None:
        from reverie._content import Message

        shown: list[str] = []  # the answer's text on screen, kept if Ctrl-C stops it
        try:
            with self.agent.stream(text, messages=self.history) as stream:
                with self.output.answer() as view:
                    for part in stream:
                        if part.type == "text_delta":
                            shown.append(part.delta)
                        elif part.type == "retry":
                            shown.clear()
                        view.feed(part)
                result = stream.result()
        except KeyboardInterrupt:
            self.output.info("(stopped)")
            partial = "".join(shown)
            if partial.strip():
                self.history += [Message.user(text), Message.assistant(partial)]
            return
        except Exception as error:
            print_error(describe_error(error)[0], self.stderr)
            return
        self.history = result.messages
