"""The documentation's code blocks run, offline, and the site covers the public API.

Every page of ``docs/`` is run by ``tests/docs_blocks.py`` in its own process: its Python
blocks in order (their ``#>`` lines checked against what they print), its test-file blocks
with pytest, its blocks titled ``Needs ...`` compiled with their ``reverie`` imports run.
No block goes unclassified. The API reference (``docs/api/``) must list every public name,
and every provider has its page. The site itself is built by ``scripts/check``
(``mkdocs build --strict``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import reverie
import reverie.testing
from reverie._model_strings import KNOWN_PROVIDERS
from tests import docs_blocks
from tests.docs_blocks import BlockError, blocks, pages, run_page

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RUNNER = ROOT / "tests" / "docs_blocks.py"
_DIRECTIVE = re.compile(r"^::: (?P<name>[\w.]+)\s*$", re.MULTILINE)


def _pages_with_checks() -> list[Path]:
    return [page for page in pages() if any(block.kind != "shown" for block in blocks(page))]


def _run_runner(page: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUNNER), str(page)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_block_of_every_page_is_classified() -> None:
    kinds: dict[str, int] = {}
    for page in pages():
        for block in blocks(page):
            kinds[block.kind] = kinds.get(block.kind, 0) + 1  # raises BlockError when unclassifiable
    assert kinds.get("run", 0) >= 80, kinds
    assert kinds.get("needs-key", 0) >= 10, kinds
    assert kinds.get("pytest", 0) >= 1, kinds


@pytest.mark.parametrize("page", _pages_with_checks(), ids=lambda page: str(page.relative_to(DOCS)))
def test_page_blocks_run_offline(page: Path, tmp_path: Path) -> None:
    completed = _run_runner(page, tmp_path)
    assert completed.returncode == 0, completed.stderr + "\n--- stdout ---\n" + completed.stdout


def test_the_api_reference_lists_every_public_name() -> None:
    documented = {
        match["name"]
        for page in (DOCS / "api").glob("*.md")
        for match in _DIRECTIVE.finditer(page.read_text())
    }
    missing = [
        f"reverie.{name}"
        for name in reverie.__all__
        if name != "__version__" and f"reverie.{name}" not in documented
    ]
    missing += [
        f"reverie.providers.{name}"
        for name in KNOWN_PROVIDERS
        if f"reverie.providers.{name}" not in documented
    ]
    if "reverie.testing" not in documented:  # the module directive documents its __all__
        missing += [f"reverie.testing.{name}" for name in reverie.testing.__all__]
    assert not missing, f"add these to a page of docs/api/: {missing}"


@pytest.mark.parametrize("provider", KNOWN_PROVIDERS)
def test_every_provider_has_a_page_with_auth_options_reasoning_and_quirks(provider: str) -> None:
    page = DOCS / "providers" / f"{provider}.md"
    headings = " | ".join(re.findall(r"^#+ (.+)$", page.read_text(), re.MULTILINE)).lower()
    for topic in ("auth", "options", "reasoning", "quirks"):
        assert topic in headings, f"{page.name} has no heading about {topic}: {headings}"


def test_every_page_is_in_the_navigation() -> None:
    navigation = (ROOT / "mkdocs.yml").read_text()
    missing = [
        str(page.relative_to(DOCS)) for page in pages() if f" {page.relative_to(DOCS)}\n" not in navigation
    ]
    assert not missing, f"add to the nav of mkdocs.yml: {missing}"


# The runner itself.


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent(text), encoding="utf-8")
    return page


def test_blocks_are_found_with_their_language_title_and_line(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        """\
        # A page

        ```python
        x = 1
        ```

        !!! note
            ```python title="Needs OPENAI_API_KEY"
            from reverie.providers import openai
            ```

        ```bash
        pip install reverie
        ```
        """,
    )
    found = blocks(page)
    assert [(block.line, block.language, block.title, block.kind) for block in found] == [
        (3, "python", None, "run"),
        (8, "python", "Needs OPENAI_API_KEY", "needs-key"),
        (12, "bash", None, "shown"),
    ]
    assert found[1].source == "from reverie.providers import openai\n"  # dedented out of the note


@pytest.mark.parametrize(
    ("fence", "message"),
    [
        ("```", "without a language"),
        ("```pyhton", "unknown code block language"),
        ('```python title="example.py"', "'Needs ...'"),
    ],
)
def test_a_block_that_cannot_be_classified_fails(tmp_path: Path, fence: str, message: str) -> None:
    (block,) = blocks(_page(tmp_path, f"{fence}\nprint(1)\n```\n"))
    with pytest.raises(BlockError, match=message):
        block.kind  # noqa: B018 - classifying is the check


def test_an_unclosed_fence_fails(tmp_path: Path) -> None:
    with pytest.raises(BlockError, match="never closed"):
        blocks(_page(tmp_path, "```python\nprint(1)\n"))


def test_blocks_of_a_page_share_a_namespace_and_may_await(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _page(
        tmp_path,
        """\
        ```python
        import asyncio

        greeting = "hi"
        ```

        ```python
        await asyncio.sleep(0)
        print(greeting)
        #> hi
        ```
        """,
    )
    run_page(page)
    assert capsys.readouterr().out == "hi\n"


def test_output_that_differs_from_the_marked_lines_fails(tmp_path: Path) -> None:
    page = _page(tmp_path, "# Page\n\n```python\nprint(1 + 1)\n#> 3\n```\n")
    with pytest.raises(
        BlockError, match=r"page\.md:3: the block printed\n2\n--- but its #> lines say ---\n3"
    ):
        run_page(page)


def test_a_block_that_raises_fails_with_its_line(tmp_path: Path) -> None:
    page = _page(tmp_path, "```python\nx = 1\n```\n\n```python\n1 / 0\n```\n")
    with pytest.raises(BlockError, match=r"page\.md:5: the block raised ZeroDivisionError"):
        run_page(page)


def test_a_needs_key_block_is_not_run_but_its_imports_are(tmp_path: Path) -> None:
    runs = _page(
        tmp_path, '```python title="Needs A_KEY"\nfrom reverie import Agent\nraise SystemExit(3)\n```\n'
    )
    run_page(runs)  # compiled and imported, never run
    broken = _page(tmp_path, '```python title="Needs A_KEY"\nfrom reverie import NoSuchThing\n```\n')
    with pytest.raises(BlockError, match="an import of this block fails"):
        run_page(broken)


def test_a_data_block_must_parse(tmp_path: Path) -> None:
    run_page(_page(tmp_path, '```json\n{"a": 1}\n```\n'))
    with pytest.raises(BlockError, match="does not parse"):
        run_page(_page(tmp_path, '```json\n{"a": 1,}\n```\n'))


def test_blocks_run_offline_with_placeholder_keys(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        """\
        ```python
        import os

        print(os.environ["OPENAI_API_KEY"], "AWS_ACCESS_KEY_ID" in os.environ)
        #> sk-placeholder False
        ```

        ```python
        import httpx2

        httpx2.get("https://example.com")
        ```
        """,
    )
    completed = _run_runner(page, tmp_path)
    assert completed.returncode == 1
    assert "page.md:8: the block raised" in completed.stderr
    assert "run offline" in completed.stderr


def test_a_failing_test_file_block_fails(tmp_path: Path) -> None:
    # A passing one runs on the testing page (test_weather.py).
    (block,) = blocks(
        _page(tmp_path, '```python title="test_bad.py"\ndef test_bad():\n    assert False\n```\n')
    )
    assert block.kind == "pytest"
    with pytest.raises(BlockError, match=r"pytest failed on test_bad\.py"):
        docs_blocks.run_pytest_block(block)
