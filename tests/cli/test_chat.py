"""``reverie chat`` driven through a pseudo-terminal (pexpect) against the loopback stub."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from pydantic import TypeAdapter

from reverie import Message
from tests.cli.conftest import clean_environment, reverie
from tests.cli.stub_server import DEFAULT_TEXT, Reply, StubServer

EXPECT_TIMEOUT = 10


def _conversation(stub: StubServer, index: int = -1) -> list[tuple[str, str]]:
    return [(message["role"], message["content"]) for message in stub.requests[index].body["messages"]]


@pytest.fixture
def session(stub: StubServer) -> Iterator[pexpect.spawn]:
    """``reverie chat`` on a terminal, its base URL from --base-url."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "reverie", "chat", "-m", "openaicompat:stub-model", "--base-url", stub.url],
        env=clean_environment(TERM="xterm-256color", NO_COLOR="1"),
        encoding="utf-8",
        timeout=EXPECT_TIMEOUT,
        dimensions=(40, 120),
    )
    try:
        child.expect_exact("reverie chat · openaicompat:stub-model")
        child.expect_exact("> ")
        yield child
    finally:
        child.close(force=True)


def _send(child: pexpect.spawn, line: str, *expected: str) -> None:
    child.sendline(line)
    for text in expected:
        child.expect_exact(text)
    child.expect_exact("> ")


def test_a_session_keeps_history_saves_resets_and_switches_models(
    session: pexpect.spawn, stub: StubServer, tmp_path: Path
) -> None:
    _send(session, "Hello there", DEFAULT_TEXT)
    assert _conversation(stub) == [("user", "Hello there")]

    stub.script([Reply(text="Two lines received.")])
    session.sendline('"""')
    for line in ("line one", "line two"):
        session.expect_exact("... ")
        session.sendline(line)
    session.expect_exact("... ")
    _send(session, '"""', "Two lines received.")
    assert _conversation(stub) == [
        ("user", "Hello there"),
        ("assistant", DEFAULT_TEXT),
        ("user", "line one\nline two"),
    ]

    saved = tmp_path / "conversation.json"
    _send(session, f"/save {saved}", "saved 4 messages")
    document = json.loads(saved.read_text())
    assert [message["role"] for message in document] == ["user", "assistant", "user", "assistant"]
    messages = TypeAdapter(list[Message]).validate_python(document)
    assert [message.text for message in messages] == [
        "Hello there",
        DEFAULT_TEXT,
        "line one\nline two",
        "Two lines received.",
    ]

    _send(session, "/reset", "conversation cleared")
    _send(session, "After the reset", DEFAULT_TEXT)
    assert _conversation(stub) == [("user", "After the reset")]

    # Same provider: --base-url still applies. History is kept across the switch.
    _send(session, "/model openaicompat:other-model", "model: openaicompat:other-model")
    _send(session, "Which model?", DEFAULT_TEXT)
    assert stub.requests[-1].body["model"] == "other-model"
    assert len(_conversation(stub)) == 3

    # Another provider without a key: an error, and the session goes on with the same model.
    _send(session, "/model openai:gpt-4o", "no API key for openai: set OPENAI_API_KEY or pass --api-key")
    _send(session, "/bogus", "unknown command /bogus")

    # A failed exchange is reported; the next one works and the failure left no trace.
    stub.script([Reply(status=401, error="the stub refuses")])
    _send(session, "Fail please", "reverie: error:", "the stub refuses")
    _send(session, "And now?", DEFAULT_TEXT)
    assert stub.requests[-1].body["model"] == "other-model"
    assert [role for role, _ in _conversation(stub)] == ["user", "assistant", "user", "assistant", "user"]

    session.sendcontrol("d")
    session.expect(pexpect.EOF)
    session.close()
    assert session.exitstatus == 0


def test_ctrl_c_stops_the_answer_not_the_session(session: pexpect.spawn, stub: StubServer) -> None:
    # A slow answer: 100 pieces, 0.1 s apart (10 s if nothing stopped it).
    stub.script([Reply(text=["Once upon a time", *[" and then"] * 100], delay=0.1)])
    session.sendline("Tell me a long story")
    session.expect_exact("Once upon a time")
    stopped_at = time.monotonic()
    session.sendcontrol("c")
    session.expect_exact("(stopped)")
    session.expect_exact("> ")
    assert time.monotonic() - stopped_at < 5

    # Ctrl-C at the prompt only drops the line being typed. (The echo shows readline is
    # reading: a signal that came between the prompt and its read would wait for a key.)
    session.send("a draft")
    session.expect_exact("a draft")
    session.sendcontrol("c")
    session.expect_exact("> ")

    _send(session, "Are you still there?", DEFAULT_TEXT)
    conversation = _conversation(stub)
    assert [role for role, _ in conversation] == ["user", "assistant", "user"]
    assert conversation[2] == ("user", "Are you still there?")  # no trace of the draft
    assert conversation[1][1].startswith("Once upon a time")  # what was shown stays
    assert len(conversation[1][1]) < len("Once upon a time" + " and then" * 100)

    session.sendline("/exit")
    session.expect(pexpect.EOF)
    session.close()
    assert session.exitstatus == 0


def test_chat_reads_piped_lines_too(stub: StubServer, model: str, tmp_path: Path) -> None:
    saved = tmp_path / "piped.json"
    completed = reverie("chat", "-m", model, "--system", "Be brief.", input=f"Hi\n/save {saved}\n")
    assert completed.returncode == 0, completed.stderr
    assert DEFAULT_TEXT in completed.stdout
    assert [message["role"] for message in json.loads(saved.read_text())] == ["system", "user", "assistant"]
    assert _conversation(stub) == [("system", "Be brief."), ("user", "Hi")]


def test_chat_without_a_key_exits_with_2() -> None:
    completed = reverie("chat", "-m", "anthropic:claude-sonnet-4-20250514", input="Hi\n")
    assert completed.returncode == 2
    assert "no API key for anthropic: set ANTHROPIC_API_KEY or pass --api-key" in completed.stderr
