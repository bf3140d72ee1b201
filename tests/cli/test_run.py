"""``reverie run`` as a subprocess against the loopback stub: output, exit codes and errors."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pexpect
import pytest

from reverie._model_strings import KNOWN_PROVIDERS
from tests.cli.conftest import InProcess, clean_environment, reverie
from tests.cli.stub_server import DEFAULT_TEXT, Reply, StubServer

PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
PERSON = {"name": "Alice", "age": 30}


def _user_texts(stub: StubServer) -> list[str]:
    return [message["content"] for message in stub.requests[-1].body["messages"] if message["role"] == "user"]


def test_streams_the_answer_to_standard_output(stub: StubServer, model: str) -> None:
    stub.script([Reply(text="# Title\n\nSome **bold** text.", reasoning="thinking it over")])
    completed = reverie("run", "Say something", "-m", model)
    assert completed.returncode == 0, completed.stderr
    # Not a terminal: the raw Markdown, only the answer on stdout, the reasoning on stderr.
    assert completed.stdout == "# Title\n\nSome **bold** text.\n"
    assert "thinking it over" in completed.stderr
    (request,) = stub.requests
    assert request.body["stream"] is True
    assert request.body["model"] == "stub-model"
    assert request.body["messages"] == [{"role": "user", "content": "Say something"}]


def test_system_prompt_is_sent_first(in_process: InProcess, stub: StubServer, model: str) -> None:
    code, _, err = in_process("run", "hi", "-m", model, "--system", "Be brief.")
    assert code == 0, err
    assert stub.requests[0].body["messages"][0] == {"role": "system", "content": "Be brief."}


def test_piped_standard_input_is_the_prompt(stub: StubServer, model: str) -> None:
    completed = reverie("run", "-m", model, input="What is in this text?\n")
    assert completed.returncode == 0, completed.stderr
    assert _user_texts(stub) == ["What is in this text?\n"]
    assert completed.stdout == DEFAULT_TEXT + "\n"


def test_piped_standard_input_is_appended_to_the_prompt(stub: StubServer, model: str) -> None:
    completed = reverie("run", "Summarize this file", "-m", model, input="line one\nline two\n")
    assert completed.returncode == 0, completed.stderr
    assert _user_texts(stub) == ["Summarize this file\n\nline one\nline two\n"]


def test_no_prompt_is_a_usage_error(stub: StubServer, model: str) -> None:
    completed = reverie("run", "-m", model, input="")
    assert completed.returncode == 2
    assert "no prompt" in completed.stderr
    assert stub.requests == []


def test_json_prints_the_result_document(stub: StubServer, model: str) -> None:
    completed = reverie("run", "hi", "-m", model, "--json")
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document == {
        "text": DEFAULT_TEXT,
        "finish_reason": "stop",
        "usage": {
            "input_tokens": 11,
            "output_tokens": 7,
            "total_tokens": 18,
            "reasoning_tokens": 0,
            "cache_creation_tokens": 0,
            "cache_read_tokens": 0,
        },
        "cost": None,
    }


def test_tool_calls_are_shown_beside_the_answer(in_process: InProcess, stub: StubServer, model: str) -> None:
    # The command has no tools of its own: the call gets an error result and the model answers.
    stub.script([Reply(tool_call=("lookup", {"q": "reverie"})), Reply(text="No tools here.")])
    code, out, err = in_process("run", "look it up", "-m", model)
    assert code == 0, err
    assert out == "No tools here.\n"
    assert '→ lookup({"q": "reverie"})' in err
    assert "← lookup (error): unknown tool 'lookup'" in err
    assert len(stub.requests) == 2


def _read_until(stream: IO[bytes], wanted: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{wanted!r} did not arrive; got {seen!r}"
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            chunk = os.read(stream.fileno(), 4096)
            assert chunk, f"the output ended before {wanted!r}; got {seen!r}"
            seen += chunk
    return seen


def test_plain_output_is_flushed_per_delta(stub: StubServer, model: str) -> None:
    gate = threading.Event()  # the stub holds the second piece until the first was seen
    stub.script([Reply(text=["first piece, ", "second piece"], gate=gate)])
    process = subprocess.Popen(
        [sys.executable, "-m", "reverie", "run", "hi", "-m", model],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_environment(),
    )
    try:
        assert process.stdout is not None
        seen = _read_until(process.stdout, b"first piece, ", timeout=20)
        assert b"second" not in seen
    finally:
        gate.set()
        rest, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert seen + rest == b"first piece, second piece\n"


def test_schema_file_prints_the_object(stub: StubServer, model: str, tmp_path: Path) -> None:
    schema = tmp_path / "person.json"
    schema.write_text(json.dumps(PERSON_SCHEMA))
    stub.script([Reply(object=PERSON)])
    completed = reverie("run", "Alice is 30", "-m", model, "--schema", str(schema))
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == PERSON
    (request,) = stub.requests
    (tool,) = request.body["tools"]
    assert tool["function"]["parameters"] == PERSON_SCHEMA


def test_schema_with_json_adds_the_output(stub: StubServer, model: str, tmp_path: Path) -> None:
    schema = tmp_path / "person.json"
    schema.write_text(json.dumps(PERSON_SCHEMA))
    stub.script([Reply(object=PERSON)])
    completed = reverie("run", "Alice is 30", "-m", model, "--schema", str(schema), "--json")
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document["output"] == PERSON
    assert set(document) == {"text", "finish_reason", "usage", "cost", "output"}
    assert stub.requests[0].body.get("stream") is not True  # --json waits for the whole result


FIELDS = "    name: str\n    age: int\n"
TYPES = {
    "pydantic": "from pydantic import BaseModel\n\nclass Person(BaseModel):\n" + FIELDS,
    "dataclass": "from dataclasses import dataclass\n\n@dataclass\nclass Person:\n" + FIELDS,
    "typeddict": "from typing_extensions import TypedDict\n\nclass Person(TypedDict):\n" + FIELDS,
}


def test_schema_type_from_a_module(stub: StubServer, model: str, tmp_path: Path) -> None:
    (tmp_path / "people.py").write_text(TYPES["pydantic"])
    stub.script([Reply(object={"name": "Alice", "age": "30"})])  # validated: "30" becomes 30
    completed = reverie("run", "Alice is 30", "-m", model, "--schema", "people:Person", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == PERSON
    (tool,) = stub.requests[0].body["tools"]
    assert tool["function"]["name"] == "Person"


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_schema_types_of_every_kind(
    in_process: InProcess,
    stub: StubServer,
    model: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    module = f"cli_schema_{kind}"  # one module name per kind: this process imports each once
    (tmp_path / f"{module}.py").write_text(TYPES[kind])
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, module, raising=False)
    stub.script([Reply(object={"name": "Alice", "age": "30"})])
    code, out, err = in_process("run", "Alice is 30", "-m", model, "--schema", f"{module}:Person", "--json")
    assert code == 0, err
    assert json.loads(out)["output"] == PERSON


def test_bad_schema_file_is_a_usage_error(stub: StubServer, model: str, tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text("{not json")
    completed = reverie("run", "hi", "-m", model, "--schema", str(schema))
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"reverie: error: --schema {schema}: not valid JSON (")
    assert stub.requests == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the file (No such file or directory)"),
        (
            "{not json",
            "not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2)",
        ),
        ("[1, 2]", "a JSON schema is a JSON object, not list"),
    ],
)
def test_schema_file_errors(
    in_process: InProcess,
    stub: StubServer,
    model: str,
    tmp_path: Path,
    content: str | None,
    message: str,
) -> None:
    schema = tmp_path / "schema.json"
    if content is not None:
        schema.write_text(content)
    code, out, err = in_process("run", "hi", "-m", model, "--schema", str(schema))
    assert (code, out) == (2, "")
    assert err == f"reverie: error: --schema {schema}: {message}\n"
    assert stub.requests == []


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("no_such_module:Person", "cannot import 'no_such_module'"),
        ("json:NoSuchType", "'json' has no 'NoSuchType'"),
        ("json:dumps", "is not a type"),
        ("person", "give a JSON schema file (FILE.json) or an importable type (module:Type)"),
    ],
)
def test_schema_type_errors(
    in_process: InProcess, stub: StubServer, model: str, argument: str, message: str
) -> None:
    code, _, err = in_process("run", "hi", "-m", model, "--schema", argument)
    assert code == 2
    assert err.startswith(f"reverie: error: --schema {argument}: ")
    assert message in err
    assert stub.requests == []


def test_a_failing_schema_module_is_a_usage_error(
    in_process: InProcess,
    stub: StubServer,
    model: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "broken_schema_module.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = in_process("run", "hi", "-m", model, "--schema", "broken_schema_module:Person")
    assert code == 2
    assert "importing 'broken_schema_module' failed (RuntimeError: boom)" in err


def test_missing_key_names_the_variable_and_the_option() -> None:
    completed = reverie("run", "hi", "-m", "openai:gpt-4o")
    assert completed.returncode == 2
    assert completed.stderr == "reverie: error: no API key for openai: set OPENAI_API_KEY or pass --api-key\n"
    assert "Traceback" not in completed.stderr


def test_unknown_provider_lists_the_known_ones() -> None:
    completed = reverie("run", "hi", "-m", "openia:gpt-4o")
    assert completed.returncode == 2
    assert "unknown provider 'openia'" in completed.stderr
    assert all(name in completed.stderr for name in KNOWN_PROVIDERS)


def test_missing_model_option_is_a_usage_error(in_process: InProcess) -> None:
    code, _, err = in_process("run", "hi")
    assert code == 2
    assert "the following arguments are required: -m/--model" in err


def test_api_key_is_sent_and_base_url_wins_over_the_model_string(stub: StubServer) -> None:
    nowhere = "openaicompat:stub-model@http://127.0.0.1:9/v1"
    completed = reverie("run", "hi", "-m", nowhere, "--base-url", stub.url, "--api-key", "sk-test-123")
    assert completed.returncode == 0, completed.stderr
    (request,) = stub.requests
    assert request.headers["authorization"] == "Bearer sk-test-123"
    assert "sk-test-123" not in completed.stdout + completed.stderr


def test_options_may_come_before_the_command(in_process: InProcess, stub: StubServer) -> None:
    code, _, err = in_process(
        "--base-url", stub.url, "--api-key", "sk-before", "run", "hi", "-m", "openaicompat:m"
    )
    assert code == 0, err
    assert stub.requests[0].headers["authorization"] == "Bearer sk-before"


def test_provider_error_exits_with_1(in_process: InProcess, stub: StubServer, model: str) -> None:
    stub.script([Reply(status=401, error="invalid key for the stub")])  # 401: not retried
    code, out, err = in_process("run", "hi", "-m", model)
    assert (code, out) == (1, "")
    assert err.startswith("reverie: error: ")
    assert "invalid key for the stub" in err


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_bad_timeout_is_a_usage_error(in_process: InProcess, value: str) -> None:
    code, _, err = in_process("models", "--timeout", value)
    assert code == 2
    assert "argument --timeout: " in err


def test_verbose_logs_each_request_on_standard_error(stub: StubServer, model: str) -> None:
    completed = reverie("run", "hi", "-m", model, "--verbose")
    assert completed.returncode == 0, completed.stderr
    assert f"reverie DEBUG reverie: request POST {stub.url}/chat/completions" in completed.stderr
    assert completed.stdout == DEFAULT_TEXT + "\n"


def test_without_verbose_only_warnings_are_logged(
    in_process: InProcess, stub: StubServer, model: str
) -> None:
    code, _, err = in_process("run", "hi", "-m", model)
    assert code == 0
    assert "DEBUG" not in err
    code, _, err = in_process("run", "hi", "-m", model, "-v")
    assert "reverie DEBUG" in err
    code, _, err = in_process("run", "hi", "-m", model)
    assert "DEBUG" not in err  # a later command without -v is quiet again


def _terminal(*arguments: str, **environment: str) -> str:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "reverie", *arguments],
        env=clean_environment(TERM="xterm-256color", **environment),
        encoding="utf-8",
        timeout=15,
        dimensions=(40, 100),
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return child.before


def test_terminal_renders_markdown_and_dims_reasoning(stub: StubServer, model: str) -> None:
    stub.script([Reply(text="# Title\n\nSome **bold** text.", reasoning="thinking it over")])
    screen = _terminal("run", "hi", "-m", model)
    assert "Title" in screen and "# Title" not in screen
    assert "bold" in screen and "**bold**" not in screen
    assert "\x1b[2;3mthinking it over" in screen  # dim italic


def test_terminal_colour_follows_no_color(stub: StubServer, model: str) -> None:
    replies = [Reply(tool_call=("lookup", {"q": "x"})), Reply(text="done")]
    stub.script(replies)
    coloured = _terminal("run", "hi", "-m", model)
    assert "\x1b[36m→ lookup" in coloured  # cyan
    stub.script(replies)
    plain = _terminal("run", "hi", "-m", model, NO_COLOR="1")
    assert "→ lookup" in plain and "\x1b[36m" not in plain


def test_timeout_bounds_each_request(in_process: InProcess, stub: StubServer, model: str) -> None:
    # Every attempt drips slower than the timeout. In this process (not a subprocess) the
    # reverie pytest plugin makes the retry waits instant.
    stub.script([Reply(text=["a", "b", "c"], delay=2.0) for _ in range(4)])
    started = time.monotonic()
    code, _, err = in_process("run", "hi", "-m", model, "--timeout", "0.3")
    assert code == 1
    assert "timed out" in err
    assert len(stub.requests) == 4  # the first attempt and three retries, each cut at 0.3 s
    assert time.monotonic() - started < 5
