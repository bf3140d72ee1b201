"""The code blocks of the documentation pages: found, classified and run, offline.

Every fenced block of ``docs/**/*.md`` is one of:

* a Python block (```` ```python ````) that is **run**: the blocks of one page run in order in
  one namespace (a block may use what an earlier block of its page defined), top-level
  ``await`` allowed. Lines ``#> text`` in a block give its expected output: when a block has
  any, what it prints must equal them, line for line;
* a Python block titled ``Needs ...`` (```` ```python title="Needs OPENAI_API_KEY" ````),
  which calls a real service: it is compiled, and its ``reverie`` imports are run (so the names
  it uses exist), but it is not run;
* a Python block titled like a test file (```` ```python title="test_weather.py" ````): it is
  written to that file in a scratch directory and run with pytest, which must pass;
* a block of another language: ``json``, ``toml`` and ``yaml`` blocks must parse; ``bash`` and
  ``text`` blocks are shown, not run (commands install packages, start servers or call a
  provider).

A fence without a language is an error, so no block goes unclassified.

Blocks run offline: each provider's key variable holds a placeholder (so code that only builds
providers runs), real keys are removed, and any connection or name lookup for a host other
than the loopback one fails.

Run one page: ``python tests/docs_blocks.py docs/streaming.md`` (exit status 1 on the first
failing block, with the page and line).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

Kind = Literal["run", "needs-key", "pytest", "data", "shown"]

PYTHON = frozenset({"python", "py"})
DATA = frozenset({"json", "toml", "yaml"})
SHOWN = frozenset({"bash", "text"})

_FENCE = re.compile(r"^(?P<indent>[ ]*)(?P<fence>```+)(?P<info>.*)$")
_TITLE = re.compile(r'title="(?P<title>[^"]*)"')
_TEST_FILE = re.compile(r"^test_\w+\.py$")
_OUTPUT = re.compile(r"^\s*#> ?(?P<text>.*)$")

PLACEHOLDER_ENV = {
    "OPENAI_API_KEY": "sk-placeholder",
    "ANTHROPIC_API_KEY": "sk-ant-placeholder",
    "GEMINI_API_KEY": "placeholder",
    "OPENROUTER_API_KEY": "sk-or-placeholder",
    "AI_GATEWAY_API_KEY": "placeholder",
    "AZURE_OPENAI_API_KEY": "placeholder",
    "AZURE_OPENAI_ENDPOINT": "https://my-resource.openai.azure.com",
    "GOOGLE_CLOUD_PROJECT": "my-project",
}
"""What the blocks see in the environment: a placeholder for every provider's key variable."""

_REMOVED_ENV = (
    "GOOGLE_API_KEY",
    "AWS_BEARER_TOKEN_BEDROCK",  # Bedrock prefers it to credentials: blocks pass theirs
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "GOOGLE_APPLICATION_CREDENTIALS",
)
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class BlockError(Exception):
    """A block that is malformed or failed; the message names its page and line."""


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block of a page."""

    path: Path
    line: int
    """The line of the opening fence (1-based)."""
    language: str
    title: str | None
    source: str

    @property
    def where(self) -> str:
        """``page.md:line``, for messages."""
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}"

    @property
    def kind(self) -> Kind:
        """What the test does with the block (see the module docstring)."""
        if self.language in PYTHON:
            if self.title and self.title.startswith("Needs "):
                return "needs-key"
            if self.title and _TEST_FILE.match(self.title):
                return "pytest"
            if self.title:
                raise BlockError(
                    f"{self.where}: a Python block's title is 'Needs ...' (not run) or a test "
                    f"file name (run with pytest), not {self.title!r}"
                )
            return "run"
        if self.language in DATA:
            return "data"
        if self.language in SHOWN:
            return "shown"
        if not self.language:
            raise BlockError(
                f"{self.where}: a code fence without a language (use python, bash, text, json, ...)"
            )
        raise BlockError(f"{self.where}: unknown code block language {self.language!r}")

    def expected_output(self) -> list[str] | None:
        """The ``#>`` lines of the block, or ``None`` when it has none."""
        lines = [match["text"] for line in self.source.splitlines() if (match := _OUTPUT.match(line))]
        return lines or None


def pages(root: Path = DOCS) -> list[Path]:
    """Every Markdown page under ``root``, sorted."""
    return sorted(root.rglob("*.md"))


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a page, in order.

    Raises:
        BlockError: A fence is never closed.
    """
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence, info = opening["indent"], opening["fence"], opening["info"].strip()
        language = info.split(maxsplit=1)[0].lower() if info and not info.startswith(("{", "title")) else ""
        title_match = _TITLE.search(info)
        body: list[str] = []
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            line = lines[end]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            end += 1
        if end == len(lines):
            raise BlockError(f"{path}:{index + 1}: code fence never closed")
        found.append(
            Block(
                path=path,
                line=index + 1,
                language=language,
                title=title_match["title"] if title_match else None,
                source="\n".join(body) + "\n",
            )
        )
        index = end + 1
    return found


def check_data(block: Block) -> None:
    """Parse a ``json``, ``toml`` or ``yaml`` block."""
    try:
        if block.language == "json":
            json.loads(block.source)
        elif block.language == "toml":
            tomllib.loads(block.source)
        else:
            import yaml

            yaml.safe_load(block.source)
    except Exception as error:
        raise BlockError(f"{block.where}: the {block.language} block does not parse: {error}") from error


def check_needs_key(block: Block) -> None:
    """Compile a block that needs a key, and run its ``reverie`` imports."""
    try:
        tree = ast.parse(block.source, filename=block.where)
    except SyntaxError as error:
        raise BlockError(f"{block.where}: {error}") from error
    imports = [
        node
        for node in ast.walk(tree)
        if (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "reverie")
        or (
            isinstance(node, ast.Import)
            and any(alias.name.split(".")[0] == "reverie" for alias in node.names)
        )
    ]
    module = ast.Module(body=list(imports), type_ignores=[])
    try:
        exec(compile(module, block.where, "exec"), {})
    except Exception as error:
        raise BlockError(f"{block.where}: an import of this block fails: {error!r}") from error


def run_block(block: Block, namespace: dict[str, Any]) -> None:
    """Run one Python block in ``namespace``; check its output against its ``#>`` lines."""
    try:
        code = compile(block.source, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError as error:
        raise BlockError(f"{block.where}: {error}") from error
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            if code.co_flags & inspect.CO_COROUTINE:
                asyncio.run(eval(code, namespace))
            else:
                exec(code, namespace)
    except Exception as error:
        raise BlockError(
            f"{block.where}: the block raised {error!r}\n--- output so far ---\n{output.getvalue()}"
        ) from error
    sys.stdout.write(output.getvalue())
    expected = block.expected_output()
    if expected is not None:
        printed = [line.rstrip() for line in output.getvalue().splitlines()]
        if printed != [line.rstrip() for line in expected]:
            raise BlockError(
                f"{block.where}: the block printed\n"
                + "\n".join(printed)
                + "\n--- but its #> lines say ---\n"
                + "\n".join(expected)
            )


def run_pytest_block(block: Block) -> None:
    """Write a test-file block to a scratch directory and run it with pytest."""
    assert block.title is not None
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / block.title).write_text(block.source, encoding="utf-8")
        # The test file runs offline too.
        (Path(scratch) / "conftest.py").write_text(
            f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
            "import docs_blocks\ndocs_blocks.forbid_network()\n",
            encoding="utf-8",
        )
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", block.title],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if completed.returncode != 0 or " passed" not in completed.stdout:
        raise BlockError(
            f"{block.where}: pytest failed on {block.title}:\n{completed.stdout}\n{completed.stderr}"
        )


def run_page(path: Path) -> None:
    """Check and run every block of a page, in order (see the module docstring)."""
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for block in blocks(path):
        kind = block.kind
        if kind == "run":
            run_block(block, namespace)
        elif kind == "needs-key":
            check_needs_key(block)
        elif kind == "pytest":
            run_pytest_block(block)
        elif kind == "data":
            check_data(block)


def offline_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) without real credentials, with the placeholder keys."""
    environment = dict(os.environ if base is None else base)
    for name in _REMOVED_ENV:
        environment.pop(name, None)
    environment.update(PLACEHOLDER_ENV)
    return environment


def forbid_network() -> None:
    """Make every connection or name lookup for a host other than the loopback one fail."""

    def audit(event: str, arguments: tuple[Any, ...]) -> None:
        if event == "socket.connect":
            address = arguments[1]
            host = address[0] if isinstance(address, tuple) else None
            if host is not None and host not in _LOOPBACK:
                raise OSError(f"documentation blocks run offline: connection to {host!r} refused")
        elif event == "socket.getaddrinfo":
            host = arguments[0]
            if isinstance(host, bytes):
                host = host.decode()
            if host is not None and host not in _LOOPBACK:
                raise OSError(f"documentation blocks run offline: no name lookup for {host!r}")

    sys.addaudithook(audit)


def main(argv: list[str]) -> int:
    """Run the pages named in ``argv``; print the failure and return 1 on the first one."""
    environment = offline_environment()
    os.environ.clear()
    os.environ.update(environment)
    forbid_network()
    for name in argv:
        try:
            run_page(Path(name).resolve())
        except BlockError as error:
            print(f"FAILED {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
