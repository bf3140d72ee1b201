"""The command line's pieces on their own: prompts, errors and exit codes, the plain renderer, no rich."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from reverie import (
    Discarded,
    MissingAPIKeyError,
    ProviderError,
    ReasoningDeltaPart,
    RetryError,
    RetryPart,
    TextDeltaPart,
    ToolCallPart,
    UserError,
)
from reverie._cli import DEMO_PROVIDERS
from reverie._cli.common import UsageError, describe_error, read_prompt
from reverie._cli.demo import _LIVE_MODELS
from reverie._cli.render import PlainOutput
from tests.probes import run_probe


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_read_prompt_from_the_argument_standard_input_or_both() -> None:
    assert read_prompt("hi", None) == "hi"
    assert read_prompt("hi", io.StringIO("")) == "hi"
    assert read_prompt(None, io.StringIO("piped\n")) == "piped\n"
    assert read_prompt("Summarize", io.StringIO("text\n")) == "Summarize\n\ntext\n"
    assert read_prompt("hi", _Terminal("never read")) == "hi"  # a terminal is not read
    with pytest.raises(UsageError, match="no prompt"):
        read_prompt(None, _Terminal(""))
    with pytest.raises(UsageError, match="no prompt"):
        read_prompt("  ", io.StringIO(" \n"))


def test_errors_map_to_messages_and_exit_codes() -> None:
    missing = MissingAPIKeyError(provider="openai", parameter="api_key", env_var="OPENAI_API_KEY")
    assert describe_error(missing) == ("no API key for openai: set OPENAI_API_KEY or pass --api-key", 2)
    assert describe_error(UserError("bad")) == ("bad", 2)
    assert describe_error(UsageError("worse")) == ("worse", 2)
    failure = ProviderError("HTTP 500", status_code=500)
    assert describe_error(failure)[1] == 1
    assert describe_error(RetryError([failure, failure]))[1] == 1


def test_plain_answer_keeps_standard_output_for_the_answer() -> None:
    out, err = io.StringIO(), io.StringIO()
    output = PlainOutput(out, err)
    call = ToolCallPart(tool_call_id="1", tool_name="search", input='{"q": "x"}', provider_executed=True)
    failed = ProviderError("overloaded", status_code=503)
    with output.answer() as view:
        view.feed(ReasoningDeltaPart(id="r", delta="hmm"))
        view.feed(TextDeltaPart(id="t", delta="partial"))
        discarded = Discarded(parts=2, text="partial", reasoning="hmm")
        view.feed(
            RetryPart(
                step_number=0,
                attempt=1,
                delay=0.5,
                error=failed,
                discarded=discarded,
                model="m",
                provider="p",
            )
        )
        view.feed(call)
        view.feed(TextDeltaPart(id="t", delta="whole answer"))
    assert out.getvalue() == "partial\nwhole answer\n"
    assert err.getvalue() == (
        "hmm\n"
        f"↻ retry 1 in 0.5s after: {failed} (the answer starts over)\n"
        '→ search({"q": "x"}) (run by the provider)\n'
    )


def test_object_mode_shows_neither_text_nor_the_output_tool() -> None:
    out, err = io.StringIO(), io.StringIO()
    with PlainOutput(out, err).answer(object_mode=True) as view:
        view.feed(ToolCallPart(tool_call_id="1", tool_name="response", input="{}"))
        view.feed(TextDeltaPart(id="t", delta='{"name": '))
    assert (out.getvalue(), err.getvalue()) == ("", "")


def test_plain_table_pads_columns() -> None:
    out = io.StringIO()
    PlainOutput(out, io.StringIO()).table(["a", "bb"], [["ccc", "d"], ["e", ""]])
    assert out.getvalue() == "a    bb\nccc  d\ne\n"


def test_demo_providers_are_the_live_models() -> None:
    assert sorted(DEMO_PROVIDERS) == sorted(_LIVE_MODELS)


NO_RICH_PROBE = """
import io, sys
sys.modules["rich"] = None  # as on the base install: importing it raises ImportError
from reverie._cli import main
from reverie._cli.render import PlainOutput, open_output

class Terminal(io.StringIO):
    def isatty(self):
        return True

try:
    main(["--version"])
except SystemExit as exited:
    assert exited.code == 0
assert main(["models"]) == 0
assert main(["demo"]) == 0
assert isinstance(open_output(Terminal(), Terminal()), PlainOutput)
loaded = [name for name, module in sys.modules.items() if name.startswith("rich") and module is not None]
assert loaded == [], loaded
print("ok")
"""


def test_the_base_install_runs_without_rich() -> None:
    completed = run_probe(NO_RICH_PROBE)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert completed.stdout.endswith("ok\n")


def test_version_and_help_do_not_load_the_commands() -> None:
    probe = (
        "import sys\n"
        "from reverie._cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('rich', 'pydantic', 'reverie._agent')\n"
        "print(sorted(name for name in sys.modules if name.startswith(heavy)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("[]")


@pytest.mark.parametrize(
    "option", [["--api-key", "k"], ["--base-url", "http://127.0.0.1:9/v1"], ["--timeout", "5"]]
)
def test_offline_demo_refuses_connection_options(
    option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from reverie._cli import main

    assert main(["demo", *option]) == 2
    assert "choose what --live calls" in capsys.readouterr().out
