"""The shape of ``reverie.providers``: no import cycles, small modules.

Imports are read from the source (``ast``), so an import under ``TYPE_CHECKING`` or inside a
function counts as much as one at the top: a cycle hidden from the interpreter is still a
cycle for the reader. A submodule's implicit import of its own parent package is not an
edge (every package's ``__init__`` may import its submodules).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "src"
PROVIDERS = ROOT / "reverie" / "providers"
PACKAGE = "reverie.providers"
MAX_LINES = 600


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package_dir: Path, root: Path) -> dict[str, set[str]]:
    """Each module of the package and the modules of the same package it names in an import."""
    files = {module_name(path, root): path for path in sorted(package_dir.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.add(submodule if submodule in files else base)
        graph[name] = {target for target in targets if target in files and target != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that returns to its start, or ``None``."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(graph[node]):
            cycle = visit(target)
            if cycle is not None:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        cycle = visit(node)
        if cycle is not None:
            return cycle
    return None


def test_the_import_graph_sees_type_checking_and_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg.codec import Codec\n")
    (package / "codec.py").write_text("from pkg.stream import Decoder\nclass Codec: ...\n")
    (package / "stream.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .codec import Codec\n"
    )
    graph = import_graph(package, tmp_path)
    assert graph == {"pkg": {"pkg.codec"}, "pkg.codec": {"pkg.stream"}, "pkg.stream": {"pkg.codec"}}
    assert find_cycle(graph) == ["pkg.codec", "pkg.stream", "pkg.codec"]


def test_a_submodule_importing_siblings_is_no_cycle(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg.codec import Codec\n")
    (package / "codec.py").write_text("from pkg import wire\nclass Codec: ...\n")
    (package / "wire.py").write_text("X = 1\n")
    graph = import_graph(package, tmp_path)
    assert graph["pkg.codec"] == {"pkg.wire"}
    assert find_cycle(graph) is None


def test_no_import_cycles_in_providers() -> None:
    graph = import_graph(PROVIDERS, ROOT)
    assert f"{PACKAGE}._openai_chat.stream" in graph
    assert find_cycle(graph) is None


@pytest.mark.parametrize("name", ["openai", "openaicompat", "openrouter", "anthropic", "google"])
def test_every_provider_is_a_package_with_its_options_inside(name: str) -> None:
    assert (PROVIDERS / name / "__init__.py").is_file()
    assert (PROVIDERS / name / "_options.py").is_file()


@pytest.mark.parametrize(
    "path", sorted(PROVIDERS.rglob("*.py")), ids=lambda path: str(path.relative_to(PROVIDERS))
)
def test_provider_modules_stay_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES
