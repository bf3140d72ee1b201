"""The ``reverie demo`` command: offline replay of the bundled recordings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reverie._cli import main
from tests.conftest import FIXTURES
from tests.probes import run_probe


def test_offline_demo_replays_both_programs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    weather, greeting = out.split("2. Streamed greeting")
    # The weather agent: the tool call, its result, the 429 on step 2 and its retry, the answer.
    assert 'tool call  weather({"location": "Florence,Italy"})' in weather
    assert "tool result  40 C" in weather
    assert "HTTP 429" in weather and "retry 1" in weather
    answer = next(line for line in weather.splitlines() if "answer:" in line)
    assert "Florence" in answer and "40" in answer
    assert "2 steps" in weather and "cost $0.000259" in weather
    # The greeting: a retried 429, then the streamed text on its own line.
    assert "HTTP 429" in greeting and "retry 1" in greeting
    assert "answer (streamed): Oi!\n" in greeting
    assert "1 step" in greeting


def test_live_demo_without_key_names_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    assert main(["demo", "--live"]) == 1
    assert "OPENROUTER_API_KEY" in capsys.readouterr().out


def test_offline_demo_refuses_live_only_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--provider", "anthropic"]) == 2
    assert "--live" in capsys.readouterr().out


def test_module_entry_point_runs_the_demo() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "reverie", "demo"], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "Oi!" in completed.stdout


@pytest.mark.parametrize(
    ("provider", "variable"), [("anthropic", "ANTHROPIC_API_KEY"), ("google", "GEMINI_API_KEY")]
)
def test_live_demo_on_another_provider_names_its_key(
    provider: str, variable: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["demo", "--live", "--provider", provider]) == 1
    out = capsys.readouterr().out
    assert f"reverie demo (live, {provider})" in out
    assert variable in out


TEST_KIT_PROBE = """
import json, sys

def test_kit():
    return sorted(name for name in sys.modules if name.startswith("reverie.testing"))

from reverie._cli import main
from tests.conftest import FIXTURES
seen = {"import": test_kit()}
offline = main(["demo"])
seen["offline"] = test_kit()
live = main(["demo", "--live"])  # no key in the environment: fails before any request
seen["live"] = test_kit()
seen["codes"] = [offline, live]
seen["replayed"] = "reverie._cassette.transport" in sys.modules and "reverie._demo.tools" in sys.modules
print(json.dumps(seen))
"""


def test_cli_never_imports_the_test_kit() -> None:
    # reverie.testing is the kit for test suites; the command line replays its recordings
    # through reverie._cassette instead. The probe runs in a fresh interpreter, because this
    # pytest process has loaded the test kit (its pytest plugin) already.
    completed = run_probe(TEST_KIT_PROBE)
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout.splitlines()[-1])
    assert seen["codes"] == [0, 1]
    assert seen["replayed"] is True  # the offline programs really ran through the cassette
    assert seen["import"] == []
    assert seen["offline"] == []
    assert seen["live"] == []


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    import reverie

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"reverie {reverie.__version__}"


NO_YAML_PROBE = """
import sys
sys.modules["yaml"] = None  # as on a plain install: importing it raises ImportError
from reverie._cli import main
from tests.conftest import FIXTURES
code = main(["demo"])
assert "yaml" not in [name for name, module in sys.modules.items() if module is not None]
sys.exit(code)
"""


def test_the_demo_runs_without_pyyaml() -> None:
    completed = run_probe(NO_YAML_PROBE)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    "name", ["openrouter-kimi-k2-siliconflow-tool", "openrouter-kimi-k2-wandb-simple_streaming"]
)
def test_the_bundled_json_recordings_are_the_recorded_cassettes(name: str) -> None:
    from importlib import resources

    from reverie._cassette.file_format import load_interactions

    bundled = resources.files("reverie._demo").joinpath(f"{name}.json")
    with resources.as_file(bundled) as path:
        assert load_interactions(path) == load_interactions(FIXTURES / f"{name}.yaml")


def test_the_wheel_ships_py_typed_and_the_demo_recordings(tmp_path: Path) -> None:
    import zipfile

    from hatchling.builders.wheel import WheelBuilder

    root = Path(__file__).resolve().parents[2]
    (wheel,) = WheelBuilder(str(root)).build(directory=str(tmp_path), versions=["standard"])
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "reverie/py.typed" in names
    assert {
        "reverie/_demo/openrouter-kimi-k2-siliconflow-tool.json",
        "reverie/_demo/openrouter-kimi-k2-wandb-simple_streaming.json",
    } <= names
