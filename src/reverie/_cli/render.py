"""How the commands show answers: rich on a terminal, plain text everywhere else.

``open_output`` picks the renderer. On a terminal with the ``reverie[cli]`` extra installed,
answers are Markdown rendered live with rich (reasoning dimmed, tool calls on their own lines).
Elsewhere (a pipe, a file, ``TERM=dumb``, or no rich) the answer's text goes to standard output
as it arrives, flushed per delta, and everything that is not the answer (reasoning, tool calls,
retries, notices) goes to standard error, so ``reverie run ... > answer.md`` keeps only the answer.
``NO_COLOR`` turns colour off in both.

rich is imported here only when a terminal output is opened: ``reverie --version`` and
``reverie demo`` never load it.

Does not: decide what to ask the model or handle errors.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from reverie._cli.common import is_terminal, wants_colour

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from reverie._content import ToolCallPart, ToolResultPart
    from reverie._parts import AgentStreamPart, RetryPart

_CLIP = 200


class AnswerView(Protocol):
    """Shows one streamed answer; a context manager that ends the display on exit."""

    def feed(self, part: AgentStreamPart) -> None:
        """Show one stream part."""
        ...

    def __enter__(self) -> AnswerView: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...


class Output(Protocol):
    """Where a command writes: answers, notices, JSON documents and tables."""

    def answer(self, *, object_mode: bool = False) -> AnswerView:
        """A view for one streamed answer; ``object_mode`` shows the partial typed output only."""
        ...

    def info(self, text: str) -> None:
        """A notice (dimmed where colour is on)."""
        ...

    def json(self, value: Any) -> None:
        """A JSON document on standard output."""
        ...

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A table on standard output."""
        ...


def open_output(out: TextIO, err: TextIO) -> Output:
    """Rich output on a terminal when rich is installed; plain text otherwise."""
    if is_terminal(out) and os.environ.get("TERM") != "dumb":
        try:
            from rich.console import Console
        except ImportError:  # the base install: plain text on the terminal too
            return PlainOutput(out, err)
        return RichOutput(Console(file=out, highlight=False), Console(file=err, highlight=False))
    return PlainOutput(out, err)


def tool_call_line(part: ToolCallPart) -> str:
    """``→ name(input)``, marked when the provider ran the tool."""
    where = " (run by the provider)" if part.provider_executed else ""
    return f"→ {part.tool_name}({_clip(part.input)}){where}"


def tool_result_line(part: ToolResultPart) -> str:
    """``← name: output``, clipped."""
    failed = " (error)" if part.is_error else ""
    return f"← {part.tool_name}{failed}: {_clip(part.output)}"


def retry_line(part: RetryPart) -> str:
    """What a retry notice says."""
    return f"↻ retry {part.attempt} in {part.delay:.1f}s after: {part.error} (the answer starts over)"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


def _is_output_tool(part: ToolCallPart | ToolResultPart, object_mode: bool) -> bool:
    # With --schema the typed output may arrive as a call of the agent's output tool: the
    # object is shown instead of the call.
    return object_mode and not part.provider_executed


class PlainOutput:
    """Plain text: the answer on ``out``, flushed per delta; the rest on ``err``."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self._dim, self._reset = ("\033[2m", "\033[0m") if wants_colour(err) else ("", "")

    def answer(self, *, object_mode: bool = False) -> PlainAnswer:
        """See ``Output.answer``."""
        return PlainAnswer(self, object_mode=object_mode)

    def info(self, text: str) -> None:
        """See ``Output.info``."""
        self.note(text)

    def note(self, text: str, *, end: str = "\n") -> None:
        """Dimmed text on standard error."""
        self.err.write(f"{self._dim}{text}{self._reset}{end}" if text else end)
        self.err.flush()

    def json(self, value: Any) -> None:
        """See ``Output.json``."""
        self.out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
        self.out.flush()

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """See ``Output.table``: columns padded to their widest cell."""
        widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
        for row in [header, *rows]:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
            self.out.write("  ".join(cells).rstrip() + "\n")
        self.out.flush()


class PlainAnswer:
    """One answer as plain text (see ``PlainOutput``)."""

    def __init__(self, output: PlainOutput, *, object_mode: bool) -> None:
        self._output = output
        self._object_mode = object_mode
        self._text_open = False  # answer text written without a final newline
        self._reasoning_open = False

    def __enter__(self) -> PlainAnswer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._end_reasoning()
        self._end_text()

    def feed(self, part: AgentStreamPart) -> None:
        """See ``AnswerView.feed``."""
        if part.type == "text_delta":
            if self._object_mode or not part.delta:
                return
            self._end_reasoning()
            self._output.out.write(part.delta)
            self._output.out.flush()
            self._text_open = not part.delta.endswith("\n")
        elif part.type == "reasoning_delta":
            if part.delta:
                self._output.note(part.delta, end="")
                self._reasoning_open = True
        elif part.type == "tool_call":
            if not _is_output_tool(part, self._object_mode):
                self._line(tool_call_line(part))
        elif part.type == "tool_result":
            if not _is_output_tool(part, self._object_mode):
                self._line(tool_result_line(part))
        elif part.type == "retry":
            self._end_text()
            self._line(retry_line(part))

    def _line(self, text: str) -> None:
        self._end_reasoning()
        self._output.note(text)

    def _end_reasoning(self) -> None:
        if self._reasoning_open:
            self._output.note("")
            self._reasoning_open = False

    def _end_text(self) -> None:
        if self._text_open:
            self._output.out.write("\n")
            self._output.out.flush()
            self._text_open = False


class RichOutput:
    """A terminal: Markdown rendered live, reasoning dimmed, tool calls on their own lines."""

    def __init__(self, console: Console, error_console: Console) -> None:
        self.console = console
        self.error_console = error_console

    def answer(self, *, object_mode: bool = False) -> RichAnswer:
        """See ``Output.answer``."""
        return RichAnswer(self.console, object_mode=object_mode)

    def info(self, text: str) -> None:
        """See ``Output.info``."""
        from rich.text import Text

        self.console.print(Text(text, style="dim"))

    def json(self, value: Any) -> None:
        """See ``Output.json``."""
        self.console.print_json(data=value, indent=2)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """See ``Output.table``."""
        from rich.table import Table
        from rich.text import Text

        table = Table(*header, box=None, pad_edge=False, header_style="bold")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))  # cells are text, not rich markup
        self.console.print(table)


class _Block:
    """A piece of the answer on screen: ``text`` (Markdown), ``reasoning``, ``tool`` or ``note``."""

    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text


class RichAnswer:
    """One answer rendered live with rich (see ``RichOutput``).

    The screen is rebuilt from the blocks at rich's refresh rate, not per delta, so Markdown
    is parsed a few times a second however fast the text arrives.
    """

    def __init__(self, console: Console, *, object_mode: bool) -> None:
        from rich.live import Live

        self._object_mode = object_mode
        self._blocks: list[_Block] = []
        self._object: Any = None
        self._lock = threading.Lock()
        # Visible overflow keeps the newest text in view while a long answer streams; a typed
        # object is only a preview, replaced by the validated one, hence transient.
        self._live = Live(
            console=console,
            get_renderable=self._renderable,
            refresh_per_second=8,
            transient=object_mode,
            vertical_overflow="visible",
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def __enter__(self) -> RichAnswer:
        self._live.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._live.stop()

    def feed(self, part: AgentStreamPart) -> None:
        """See ``AnswerView.feed``."""
        with self._lock:
            if part.type == "text_delta":
                if not self._object_mode:
                    self._append("text", part.delta)
            elif part.type == "reasoning_delta":
                self._append("reasoning", part.delta)
            elif part.type == "tool_call":
                if not _is_output_tool(part, self._object_mode):
                    self._blocks.append(_Block("tool", tool_call_line(part)))
            elif part.type == "tool_result":
                if not _is_output_tool(part, self._object_mode):
                    self._blocks.append(_Block("note", tool_result_line(part)))
            elif part.type == "retry":
                self._blocks = [_Block("note", retry_line(part))]
                self._object = None
            elif part.type == "output":
                self._object = part.object

    def _append(self, kind: str, delta: str) -> None:
        if self._blocks and self._blocks[-1].kind == kind:
            self._blocks[-1].text += delta
        elif delta:
            self._blocks.append(_Block(kind, delta))

    def _renderable(self) -> RenderableType:
        from rich.console import Group
        from rich.json import JSON
        from rich.markdown import Markdown
        from rich.text import Text

        with self._lock:
            blocks = [(block.kind, block.text) for block in self._blocks]
            value = self._object
        items: list[RenderableType] = []
        for kind, text in blocks:
            if kind == "text":
                items.append(Markdown(text))
            elif kind == "reasoning":
                items.append(Text(text.strip(), style="dim italic"))
            elif kind == "tool":
                items.append(Text(text, style="cyan"))
            else:
                items.append(Text(text, style="dim"))
        if self._object_mode and value is not None:
            items.append(JSON.from_data(value, indent=2))
        return Group(*items)
