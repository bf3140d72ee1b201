"""The layering of docs/architecture.md holds: import-linter's contracts pass, and they cover every module.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``): a ``layers`` contract
(types -> model protocol -> HTTP / engine -> providers -> run -> agent -> front ends) and
an ``acyclic_siblings`` contract (no import cycle between modules or packages that sit
side by side). import-linter counts every import, ``TYPE_CHECKING`` and function-level ones too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "reverie"


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]["contracts"]


def _lint_imports() -> str:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("lint-imports is missing: install the dev extra (pip install -e '.[dev]')")
    return found


def test_import_contracts_are_kept() -> None:
    completed = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "BROKEN" not in completed.stdout


def test_every_module_has_a_layer() -> None:
    (layers,) = [contract for contract in _contracts() if contract["id"] == "layers"]
    listed = {name.strip() for layer in layers["layers"] for name in str(layer).split(":")}  # type: ignore[union-attr]
    children = {
        f"reverie.{path.stem if path.is_file() else path.name}"
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    # The colour packages are split by module: engine in the HTTP layer, objects in the
    # structured-output layer, runner in the run layer.
    for colour in ("_async", "_sync"):
        children.discard(f"reverie.{colour}")
        children |= {f"reverie.{colour}.{path.stem}" for path in (PACKAGE / colour).glob("*.py")}
        children.discard(f"reverie.{colour}.__init__")
    assert children - listed == set(), "add these modules to a layer in pyproject.toml"


def test_a_layer_violation_is_caught(tmp_path: Path) -> None:
    """The contract is live: a types module importing the agent breaks it."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "src", copy / "src")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    content = copy / "src" / "reverie" / "_content.py"
    content.write_text(content.read_text() + "\nimport reverie._agent  # noqa\n")
    completed = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(copy / "src"), "PATH": str(Path(sys.executable).parent)},
    )
    assert completed.returncode != 0
    assert "reverie._content -> reverie._agent" in completed.stdout
