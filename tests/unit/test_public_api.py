"""The public surface: complete, sorted ``__all__`` lists, a light ``import reverie``, fresh sync code."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from types import ModuleType

import pytest

import reverie
from tests.conftest import ROOT

PROVIDER_MODULES = ["openai", "openaicompat", "openrouter", "vercel", "anthropic", "google"]


def isort_key(name: str) -> tuple[int, str]:
    """The order of ruff's isort-style ``__all__`` sort: CONSTANTS, then Classes, then the rest."""
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def public_names(module: ModuleType) -> set[str]:
    """Public attributes of ``module`` that are not submodules."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }


def defined_in(module: ModuleType) -> set[str]:
    """Public classes and functions defined by ``module`` (or its package), not imported into it."""
    return {
        name
        for name in public_names(module)
        if (inspect.isclass(value := getattr(module, name)) or inspect.isfunction(value))
        and (value.__module__ == module.__name__ or value.__module__.startswith(module.__name__ + "."))
    }


# --------------------------------------------------------------------------- reverie


def test_all_is_sorted() -> None:
    assert reverie.__all__ == sorted(reverie.__all__, key=isort_key)


def test_all_has_no_duplicates() -> None:
    assert len(reverie.__all__) == len(set(reverie.__all__))


def test_all_is_complete() -> None:
    # Everything reverie/__init__ binds publicly is re-exported on purpose, so it is listed.
    assert public_names(reverie) - set(reverie.__all__) == set()


def test_every_listed_name_exists() -> None:
    missing = [name for name in reverie.__all__ if not hasattr(reverie, name)]
    assert missing == []


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from reverie import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(reverie.__all__)


def test_core_names_are_exported() -> None:
    for name in ("Agent", "tool", "Tool", "Message", "Usage", "RetryPolicy", "ReverieError", "UserError"):
        assert name in reverie.__all__
    assert isinstance(reverie.__version__, str) and reverie.__version__


def test_exported_errors_share_one_base() -> None:
    errors = [getattr(reverie, name) for name in reverie.__all__ if name.endswith("Error")]
    assert len(errors) >= 5
    assert all(issubclass(error, reverie.ReverieError) for error in errors)


# --------------------------------------------------------------------------- providers and testing


@pytest.mark.parametrize("name", PROVIDER_MODULES)
def test_provider_module_all_is_sorted_complete_and_exists(name: str) -> None:
    module = importlib.import_module(f"reverie.providers.{name}")
    exported: list[str] = module.__all__
    assert exported == sorted(exported, key=isort_key)
    assert len(exported) == len(set(exported))
    assert [item for item in exported if not hasattr(module, item)] == []
    assert defined_in(module) - set(exported) == set()
    # Every provider offers the same entry points.
    assert {"Provider", "Options"} <= set(exported)
    assert module.Provider.name == name


def test_testing_all_is_sorted_and_exists() -> None:
    import reverie.testing

    exported: list[str] = reverie.testing.__all__
    assert exported == sorted(exported, key=isort_key)
    assert [item for item in exported if not hasattr(reverie.testing, item)] == []
    assert "MockModel" in exported


# --------------------------------------------------------------------------- import cost


def _modules_after(code: str) -> list[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = f"import json, sys; {code}; print(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    return json.loads(completed.stdout)


def _loaded(modules: list[str], *prefixes: str) -> list[str]:
    return [name for name in modules if any(name == p or name.startswith(p + ".") for p in prefixes)]


def test_import_reverie_is_light() -> None:
    # The core needs none of these at import: providers and the test kit load when imported,
    # pydantic when a tool schema or typed options are first used, asyncio/anyio with the
    # first async run, httpx2 with the first provider.
    modules = _modules_after("import reverie")
    assert "reverie" in modules
    assert _loaded(modules, "yaml", "reverie.providers", "reverie.testing") == []
    assert _loaded(modules, "pydantic", "pydantic_core") == []
    assert _loaded(modules, "asyncio", "anyio", "httpx2") == []
    # The agent and its run machinery load with the first use of Agent (or another of their names).
    assert _loaded(modules, "reverie._agent", "reverie._run", "reverie._tools") == []


def test_lazy_names_load_on_first_use() -> None:
    modules = _modules_after("import reverie; reverie.Agent; reverie.tool; reverie.AsyncAgentStream")
    assert _loaded(modules, "reverie._agent", "reverie._run.machine", "reverie._tools.function") != []


def test_importing_a_provider_skips_the_event_stream_decoder() -> None:
    from reverie._http.eventstream import CONTENT_TYPE
    from reverie._http.framing import AWS_EVENT_STREAM

    assert AWS_EVENT_STREAM.accept == CONTENT_TYPE
    assert _loaded(_modules_after("import reverie.providers.openrouter"), "reverie._http.eventstream") == []


@pytest.mark.parametrize("provider", PROVIDER_MODULES)
def test_importing_a_provider_does_no_schema_work(provider: str) -> None:
    # Typed options are pydantic models loaded on first use (reverie.providers._lazy), so a
    # provider import costs httpx2 and the codec, not pydantic.
    modules = _modules_after(f"import reverie.providers.{provider}")
    assert f"reverie.providers.{provider}" in modules
    assert "httpx2" in modules
    assert _loaded(modules, "pydantic", "pydantic_core", "yaml", "asyncio") == []


def test_lazy_options_load_on_first_use() -> None:
    modules = _modules_after(
        "from reverie.providers import openrouter; openrouter.Options(provider={'only': ['groq']})"
    )
    assert "pydantic" in modules and "reverie.providers.openrouter._options" in modules


def test_cassette_modules_load_yaml_on_first_use() -> None:
    # PyYAML is the optional `testing` extra: importing the cassette machinery (or the test
    # kit and its pytest plugin) must work without it; loading a cassette imports it.
    modules = _modules_after("import reverie._cassette, reverie.testing, reverie.testing.pytest_plugin")
    assert "reverie._cassette.transport" in modules
    assert _loaded(modules, "yaml") == []
    loaded = _modules_after(
        "from reverie._cassette import Cassette; "
        "Cassette.load('tests/fixtures/openrouter-kimi-k2-groq-simple.yaml')"
    )
    assert "yaml" in loaded


# --------------------------------------------------------------------------- generated code


def test_generated_sync_code_is_up_to_date() -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "unasync.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr


def test_vercel_options_load_on_first_use() -> None:
    modules = _modules_after(
        "from reverie.providers import vercel; vercel.Options(reasoning={'enabled': True})"
    )
    assert "pydantic" in modules and "reverie.providers.vercel._options" in modules
